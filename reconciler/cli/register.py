"""``reconcile register --plan plan.json``: apply one plan's Temporal schedule (the seed's runbook).

The ``register_schedule.py --plan plan.json --namespace …`` step, through the same engine as
``reconcile`` (lock, journal, policy, verify, audit): the plan's environment gives the connection
settings, ``--namespace`` / ``--task-queue`` override the plan's (CI/CD variables), and the one
schedule is diffed and applied exactly as ``reconcile --job`` would (create, or update in place;
a schedule Salam does not own is refused; nothing else is pruned). Exit codes as ``reconcile``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from ingestion.config.modes import Mode
from ingestion.exitcodes import ExitCode
from reconciler.cli import common, reconcile

PlanOption = Annotated[Path, typer.Option("--plan", help="Plan JSON, as printed by `ingest plan`.")]
NamespaceOption = Annotated[
    str | None, typer.Option("--namespace", help="Temporal namespace (default: the plan's).")
]
QueueOption = Annotated[
    str | None, typer.Option("--task-queue", help="Task queue (default: the plan's).")
]
DryRunOption = Annotated[bool, typer.Option("--dry-run", help="Show the change, apply nothing.")]


def command(
    plan: PlanOption,
    namespace: NamespaceOption = None,
    task_queue: QueueOption = None,
    dry_run: DryRunOption = False,
    allow_dirty: reconcile.AllowDirtyOption = False,
    lock_timeout: reconcile.LockTimeoutOption = 60.0,
    output_: common.OutputOption = common.Format.TEXT,
    set_: common.SetOption = None,
    root: common.RootOption = None,
    debug: common.DebugOption = False,
) -> None:
    """Create or update the Temporal schedule of one plan file."""
    report = common.Report("register", output_)

    def body() -> NoReturn:
        document = with_overrides(read_plan(plan), namespace, task_queue)
        opts = reconcile.options(
            root,
            str(document["environment"]),
            set_,
            job=[str(document["job"])],
            backend=[Mode.TEMPORAL.backend],
            plans={str(document["job"]): document},
            prune=False,
            allow_dirty=allow_dirty,
            lock_timeout=lock_timeout,
        )
        reconcile.run(report, opts, reconcile.RunMode(dry_run=dry_run, yes=True))

    common.run(report, body, debug)


def with_overrides(
    document: dict[str, Any], namespace: str | None, task_queue: str | None
) -> dict[str, Any]:
    """The plan with ``--namespace`` / ``--task-queue`` in its ``temporal`` block."""
    overrides = {"namespace": namespace, "task_queue": task_queue}
    temporal = {**document["temporal"], **{k: v for k, v in overrides.items() if v}}
    return {**document, "temporal": temporal}


def read_plan(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise common.CommandError(
            f"cannot read plan '{path}': {exc}",
            "write it with `ingest plan --config …`",
            ExitCode.INVALID,
        ) from exc
    if not isinstance(document, dict) or document.get("mode") != Mode.TEMPORAL:
        raise common.CommandError(
            f"'{path}' is not the plan of a temporal-mode job",
            "register applies temporal plans only; use `reconcile --env` for the rest",
            ExitCode.INVALID,
        )
    return document
