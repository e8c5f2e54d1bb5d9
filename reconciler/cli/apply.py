"""``reconcile apply FILE``: apply exactly a change set saved with ``--dry-run --out FILE``.

Refused as a stale change set when live state or the configs changed since it was saved, so
what is applied is what was reviewed. The ``--set`` overrides the change set was computed with
apply again; ``--set`` given here applies after them (e.g. the Temporal address as this machine
reaches it). One that changes any plan makes the change set stale; only settings outside the
plans (where and how to reach the schedulers) can differ between review and apply.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from reconciler.cli import common, lazy
from reconciler.cli import reconcile as base

if TYPE_CHECKING:
    from reconciler import changefile
else:
    changefile = lazy.module("reconciler.changefile")

FileArgument = Annotated[
    Path, typer.Argument(help="A change set saved by `reconcile --dry-run --out`.")
]


def command(
    change_set: FileArgument,
    yes: base.YesOption = False,
    lock_timeout: base.LockTimeoutOption = 60.0,
    output: common.OutputOption = common.Format.TEXT,
    set_: common.SetOption = None,
    root: common.RootOption = None,
    debug: common.DebugOption = False,
) -> None:
    """Apply a saved change set, refusing it if live state or config changed since."""
    report = common.Report("apply", output)

    def body() -> NoReturn:
        try:
            document = changefile.read(change_set)
        except changefile.StaleChangeSet as exc:
            raise common.CommandError(str(exc), "save it again with --dry-run --out") from exc
        opts = changefile.options(
            document, common.project_root(root), lock_timeout, tuple(set_ or ())
        )
        base.run(report, opts, base.RunMode(yes=yes, saved=document))

    common.run(report, body, debug)
