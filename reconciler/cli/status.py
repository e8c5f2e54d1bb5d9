"""``reconcile status --env E``: every schedule's next and last runs, outcome and lag; read-only.

It reads like ``reconcile drift`` (no apply lock, no write), builds one
:class:`reconciler.health.ScheduleStatus` per job and prints a table a person reads — job,
backend, the schedule in words, the next run (UTC, and in the job's zone when it differs), the
last run with its outcome and rows, the lag — or, with ``--output json``, one document. Exit 0,
or 1 when a run's last outcome failed or a schedule lags (so a check can page on it), 3 on
invalid config.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, NoReturn
from zoneinfo import ZoneInfo

from rich.text import Text

from ingestion.exitcodes import ExitCode
from reconciler import health
from reconciler.cli import common, lazy
from reconciler.cli.reconcile import BackendOption, JobOption, options

if TYPE_CHECKING:
    from reconciler import engine
else:
    engine = lazy.module("reconciler.engine")

COLUMNS = ("job", "backend", "schedule", "next run", "last run", "lag")
_OUTCOME = {"succeeded": "green", "failed": "red", "aborted": "red", "running": "cyan"}


def command(
    env: common.EnvOption,
    output_format: common.OutputOption = common.Format.TEXT,
    job: JobOption = None,
    backend: BackendOption = None,
    set_: common.SetOption = None,
    root: common.RootOption = None,
    debug: common.DebugOption = False,
) -> None:
    """Show each schedule's next and last runs, outcome and lag (exit 1 if any failed or lags)."""
    report = common.Report("status", output_format)
    opts = options(root, env, set_, job=job, backend=backend, prune=True)
    common.run(report, lambda: run(report, opts), debug)


def run(report: common.Report, opts: engine.ReconcileOptions) -> NoReturn:
    now = datetime.now(UTC)
    with engine.prepare(opts, for_apply=False) as current:
        events = health.events_file(current.environment.root, current.environment.settings)
        runs = health.last_runs(events, opts.env)
        statuses = health.build(current.plans, current.desired, current.live, runs, now)
        notes = list(current.notes)
    if events is None:
        notes.append("events do not go to a file here: last runs are the scheduler's own")
    report.document.update(
        {"environment": opts.env, "schedules": [s.as_json() for s in statuses], "notes": notes}
    )
    unhealthy = [s for s in statuses if _unhealthy(s)]
    text = _table_text(statuses, now)
    for note in notes:
        text.append(f"note: {note}\n", style="dim")
    text.append(
        f"{len(statuses)} schedule(s); {len(unhealthy)} failed or lagging.\n",
        style="red" if unhealthy else "green",
    )
    report.finish(ExitCode.ERROR if unhealthy else ExitCode.OK, text)


def _unhealthy(schedule: health.ScheduleStatus) -> bool:
    failed = schedule.last_run is not None and schedule.last_run.outcome in ("failed", "aborted")
    return failed or schedule.lag_seconds is not None


def _table_text(statuses: list[health.ScheduleStatus], now: datetime) -> Text:
    """Aligned columns (plain text, whatever the terminal's width)."""
    rows = [
        [Text(s.job), Text(s.backend), Text(s.schedule), _next(s), _last(s.last_run, now), _lag(s)]
        for s in statuses
    ]
    headings = [Text(h, style="bold") for h in COLUMNS]
    widths = [
        max(len(cell.plain) for cell in column) for column in zip(headings, *rows, strict=True)
    ]
    text = Text()
    for row in [headings, *rows]:
        for cell, width in zip(row, widths, strict=True):
            text.append_text(cell)
            text.append(" " * (width - len(cell.plain) + 2))
        text.rstrip()
        text.append("\n")
    return text


def _next(schedule: health.ScheduleStatus) -> Text:
    if not schedule.live:
        return Text("not live (reconcile to create it)", style="yellow")
    if schedule.paused:
        return Text(f"paused{': ' + schedule.pause_note if schedule.pause_note else ''}", "yellow")
    if not schedule.next_runs:
        return Text("-")
    first = schedule.next_runs[0]
    said = f"{first:%Y-%m-%d %H:%M} UTC"
    if schedule.timezone != "UTC":
        local = first.astimezone(ZoneInfo(schedule.timezone))
        said += f" ({local:%H:%M} {schedule.timezone})"
    return Text(said)


def _last(run: health.LastRun | None, now: datetime) -> Text:
    if run is None:
        return Text("none seen", style="dim")
    ago = _duration((now - run.started).total_seconds())
    rows = f", {run.rows} row(s)" if run.rows is not None else ""
    return Text(f"{run.outcome} {ago} ago{rows}", style=_OUTCOME.get(run.outcome, ""))


def _lag(schedule: health.ScheduleStatus) -> Text:
    if schedule.lag_seconds is None:
        return Text("-")
    return Text(f"{_duration(schedule.lag_seconds)} late", style="bold red")


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}h{minutes:02}m"
    return f"{minutes}m{secs:02}s" if minutes else f"{secs}s"
