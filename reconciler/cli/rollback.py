"""``reconcile rollback --env E --to REV``: apply the configs as they were at a git revision;
``reconcile rollback --env E --unpin``: lift the pin it leaves.

The same reconcile as ``reconcile --env E --revision REV``, without a revert commit, and it
says loudly that live state now differs from the branch head: ``reconcile drift`` reports
that difference until git catches up (revert the commits, or reconcile from the head again).
The audit log marks the apply as a rollback, with ``REV`` as given (``reconcile history``).
Once live state matches REV, the environment is pinned (``<state dir>/<env>/pin.json``, written
under the apply lock): the controller (``reconcile serve``) renders REV instead of the head, so
it does not undo the rollback, until the head's plans equal REV's or ``--unpin``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from ingestion.exitcodes import ExitCode
from reconciler.cli import common, lazy
from reconciler.cli import reconcile as base
from reconciler.controller import pin

if TYPE_CHECKING:
    from reconciler import engine, revision
else:
    engine = lazy.module("reconciler.engine")
    revision = lazy.module("reconciler.revision")

ToOption = Annotated[
    str | None, typer.Option("--to", help="Git revision to roll back to (commit, tag, branch).")
]
UnpinOption = Annotated[
    bool,
    typer.Option("--unpin", help="Lift the pin a rollback left; the controller follows the head."),
]


def command(
    env: common.EnvOption,
    to: ToOption = None,
    unpin: UnpinOption = False,
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
    if (to is None) == (not unpin):
        raise typer.BadParameter("give exactly one of --to REV and --unpin", param_hint="--to")
    report = common.Report("rollback", output)
    if unpin:
        common.run(report, lambda: _unpin(report, env, set_, root), debug)
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
        f"WARNING: live state of '{env}' now follows revision {to}, not the branch head, "
        "and is pinned there: the controller (reconcile serve) keeps it until git catches up "
        f"or `reconcile rollback --env {env} --unpin`. `reconcile drift --env {env}` reports "
        "the difference until then: revert the commits you rolled back, or unpin.\n"
    )
    report.document["warning"] = warning.strip()

    def pin_it(current: engine.Reconciliation) -> None:
        assert to is not None
        if not job:  # a rollback of some jobs only pins nothing
            held = pin.write(current.state_dir, revision.resolve(opts.root, to), to)
            report.document["pin"] = held.to_json()

    mode = base.RunMode(dry_run=dry_run, yes=yes, epilogue=warning, on_synced=pin_it)
    common.run(report, lambda: base.run(report, opts, mode), debug)


def _unpin(
    report: common.Report, env: str, overrides: list[str] | None, root: common.RootOption
) -> NoReturn:
    environment = common.load(report, root, env, overrides)
    lifted = pin.lift(engine.state_dir(environment))
    report.document.update({"environment": env, "unpinned": lifted})
    text = f"Pin of '{env}' lifted: the controller follows the branch head again.\n"
    report.finish(ExitCode.OK, text if lifted else f"'{env}' was not pinned.\n")
