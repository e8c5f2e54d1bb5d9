"""``reconcile compare --from uat --to prod``: what promoting one environment's plans would change.

Only wires and renders: the comparison and its rule are :mod:`reconciler.promotion.compare`
(shared with the web UI's compare page); this module renders it as text (one line per job, a
line per differing field) or as the JSON document. Exit 0 (also when they differ), 4 with
``--exit-code`` when they differ, 1 or 3 on errors.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.text import Text

from ingestion.exitcodes import ExitCode
from reconciler import output
from reconciler.cli import common, lazy

if TYPE_CHECKING:
    from reconciler.promotion import compare as comparison
else:
    comparison = lazy.module("reconciler.promotion.compare")

FromOption = Annotated[str, typer.Option("--from", help="The environment promoted from.")]
ToOption = Annotated[str, typer.Option("--to", help="The environment promoted to.")]
ExitCodeOption = Annotated[
    bool, typer.Option("--exit-code", help="Exit 4 when the environments differ.")
]


def command(
    from_env: FromOption,
    to_env: ToOption,
    output_: common.OutputOption = common.Format.TEXT,
    exit_code: ExitCodeOption = False,
    root: common.RootOption = None,
    debug: common.DebugOption = False,
) -> None:
    """Show, job by job, how two environments' plans differ (what a promotion would change)."""
    report = common.Report("compare", output_)

    def body() -> NoReturn:
        source = common.load(report, root, from_env, None)
        target = common.load(report, root, to_env, None)
        jobs = comparison.compare(source, target)
        differ = [j for j in jobs if j.status != "same"]
        report.document.update(comparison.document(from_env, to_env, jobs))
        code = ExitCode.DIFFERENCES if exit_code and differ else ExitCode.OK
        report.finish(code, text(from_env, to_env, jobs))

    common.run(report, body, debug)


def text(source: str, target: str, jobs: Sequence[comparison.JobComparison]) -> Text:
    out = Text()
    out.append(f"Comparing environment '{source}' -> '{target}':\n", style="bold")
    for job in jobs:
        out.append_text(_job_text(source, target, job))
    counts = comparison.counts(jobs)
    out.append(
        f"{len(jobs)} job(s): {counts['differs']} differ, {counts['same']} the same, "
        f"{counts['only-from']} only in {source}, {counts['only-to']} only in {target}.\n",
        style="bold",
    )
    return out


def _job_text(source: str, target: str, job: comparison.JobComparison) -> Text:
    out = Text()
    if job.status == "same":
        out.append(f"  = {job.job} ({job.modes[0]}): the same\n", style="dim")
    elif job.status == "only-from":
        out.append(f"  - {job.job} ({job.modes[0]}): only in {source}\n", style="red")
    elif job.status == "only-to":
        out.append(f"  + {job.job} ({job.modes[1]}): only in {target}\n", style="green")
    else:
        out.append(f"  ~ {job.job} ({job.modes[1]}):\n", style="yellow")
        for change in job.fields:
            out.append(
                f"      ~ {change.path}: {output.value(change.before)} -> "
                f"{output.value(change.after)}\n",
                style="yellow",
            )
    return out
