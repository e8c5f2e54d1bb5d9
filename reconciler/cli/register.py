"""``reconcile register --plan plan.json``: apply one plan's Temporal schedule (the seed's runbook).

The ``register_schedule.py --plan plan.json --namespace …`` step, on the backend's own code path:
the plan's environment gives the connection settings, ``--namespace`` / ``--task-queue``
override the plan's (CI/CD variables), and the one schedule is diffed and applied exactly as
``reconcile`` would (create, or update in place; a schedule Salam does not own is refused).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from ingestion.exitcodes import ExitCode
from reconciler import diff, output
from reconciler.backends.temporal import Options, TemporalBackend
from reconciler.cli import common
from reconciler.model import ChangeSet, LiveResource

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
    output_: common.OutputOption = common.Format.TEXT,
    set_: common.SetOption = None,
    root: common.RootOption = None,
    debug: common.DebugOption = False,
) -> None:
    """Create or update the Temporal schedule of one plan file."""
    report = common.Report("register", output_)

    def body() -> NoReturn:
        document = read_plan(plan)
        environment = common.load(report, root, str(document["environment"]), set_)
        options = Options(namespace=namespace, task_queue=task_queue)
        with TemporalBackend(environment, options) as backend:
            desired = backend.render(document)
            live = [r for r in backend.read() if r.key == desired.key]
            change_set = diff.compute(environment.name, [desired], live, prune=False)
            if change_set.conflicts:
                raise common.CommandError(
                    f"{desired.key} exists and is not Salam's for '{environment.name}'",
                    "rename the schedule (workflow_id) or remove the foreign one",
                )
            report.document["changes"] = output.change_set_json(change_set)["changes"]
            results = [] if dry_run else backend.apply(change_set.pending())
        finish(report, change_set, results, [r for r in live if r.paused])

    common.run(report, body, debug)


def finish(
    report: common.Report, change_set: ChangeSet, results: list[Any], paused: list[LiveResource]
) -> NoReturn:
    report.document["results"] = output.results_json(results)
    text = output.change_set_text(change_set, paused)
    if results:
        text.append_text(output.results_text(results))
    report.finish(ExitCode.OK if all(r.ok for r in results) else ExitCode.ERROR, text)


def read_plan(path: Path) -> Mapping[str, Any]:
    try:
        document = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise common.CommandError(
            f"cannot read plan '{path}': {exc}",
            "write it with `ingest plan --config …`",
            ExitCode.INVALID,
        ) from exc
    if not isinstance(document, dict) or document.get("mode") != "temporal":
        raise common.CommandError(
            f"'{path}' is not the plan of a temporal-mode job",
            "register applies temporal plans only; use `reconcile --env` for the rest",
            ExitCode.INVALID,
        )
    return document
