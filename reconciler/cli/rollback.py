"""``reconcile rollback --env E --to REV``: apply the configs as they were at a git revision.

The same reconcile as ``reconcile --env E --revision REV``, without a revert commit, and it
says loudly that live state now differs from the branch head: ``reconcile drift`` reports
that difference until git catches up (revert the commits, or reconcile from the head again).
The audit log marks the apply as a rollback, with ``REV`` as given (``reconcile history``).
"""

from __future__ import annotations

from typing import Annotated

import typer

from reconciler.cli import common
from reconciler.cli import reconcile as base

ToOption = Annotated[
    str, typer.Option("--to", help="Git revision to roll back to (commit, tag, branch).")
]


def command(
    env: common.EnvOption,
    to: ToOption,
    dry_run: base.DryRunOption = False,
    yes: base.YesOption = False,
    prune: base.PruneOption = True,
    allow_empty: base.AllowEmptyOption = False,
    job: base.JobOption = None,
    backend: base.BackendOption = None,
    lock_timeout: base.LockTimeoutOption = 60.0,
    output: common.OutputOption = common.Format.TEXT,
    set_: common.SetOption = None,
    root: common.RootOption = None,
    debug: common.DebugOption = False,
) -> None:
    """Roll an environment back to the configs of a git revision (no revert commit needed)."""
    report = common.Report("rollback", output)
    opts = base.options(
        root,
        env,
        set_,
        job=job,
        backend=backend,
        prune=prune,
        allow_empty=allow_empty,
        lock_timeout=lock_timeout,
        revision=to,
        rollback=True,
    )
    warning = (
        f"WARNING: live state of '{env}' now follows revision {to}, not the branch head. "
        f"`reconcile drift --env {env}` reports the difference until git catches up: "
        "revert the commits you rolled back, or reconcile from the head again.\n"
    )
    report.document["warning"] = warning.strip()
    mode = base.RunMode(dry_run=dry_run, yes=yes, epilogue=warning)
    common.run(report, lambda: base.run(report, opts, mode), debug)
