"""The health of every schedule of an environment: one status model, for every backend.

For each job Salam deploys: the schedule in words, the next fire times (the job's cron in its
zone, by :mod:`ingestion.cron.fires`), whether it is live and paused (and the pause note), its
last run — start, end, outcome, rows — and its *lag*: how long ago a fire time passed without a
run starting. Last runs come from the environment's ingestion events (every backend's jobs emit
them: START, then COMPLETE / FAIL / ABORT) and from what the scheduler itself reports
(``LiveResource.observed``: Temporal's recent actions and counters, a CronJob's last schedule
time). :func:`recent_runs` reads each job's last runs in one pass (the web UI's job page lists
them; :func:`last_runs` is its latest). Computing the model is separate from rendering it
(``reconcile status``).
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from ingestion.cron import fires
from reconciler.model import DesiredResource, LiveResource

START_TOLERANCE = timedelta(minutes=2)  # a fire's run may start this late (process start-up)
TERMINAL = {"COMPLETE": "succeeded", "FAIL": "failed", "ABORT": "aborted"}
RECENT = 10  # runs per job the web UI's job page lists


@dataclass(frozen=True)
class LastRun:
    """The latest run of a job that Salam knows of."""

    started: datetime
    ended: datetime | None = None
    outcome: str = "running"  # running | succeeded | failed | aborted | started (scheduler only)
    rows: int | None = None
    run_id: str | None = None
    source: str = "events"  # events | scheduler


@dataclass(frozen=True)
class ScheduleStatus:
    job: str
    resource: str  # backend/scope/name
    backend: str
    schedule: str  # in words, with the zone
    cron: str
    timezone: str
    live: bool
    paused: bool
    pause_note: str | None
    next_runs: tuple[datetime, ...]
    last_run: LastRun | None
    lag_seconds: float | None  # None: not late (or cannot tell: paused, never seen running)
    counters: Mapping[str, int] = field(default_factory=dict)  # scheduler's own: missed, skipped

    def as_json(self) -> dict[str, Any]:
        last = self.last_run
        return {
            "job": self.job,
            "resource": self.resource,
            "backend": self.backend,
            "schedule": {"words": self.schedule, "cron": self.cron, "timezone": self.timezone},
            "live": self.live,
            "paused": self.paused,
            "pause_note": self.pause_note,
            "next_runs": [_iso(moment) for moment in self.next_runs],
            "last_run": None
            if last is None
            else {
                "started": _iso(last.started),
                "ended": _iso(last.ended),
                "outcome": last.outcome,
                "rows": last.rows,
                "run_id": last.run_id,
                "source": last.source,
            },
            "lag_seconds": self.lag_seconds,
            "counters": dict(self.counters),
        }


def build(
    plans: Mapping[str, Mapping[str, Any]],
    desired: Iterable[DesiredResource],
    live: Iterable[LiveResource],
    runs: Mapping[str, LastRun],
    now: datetime,
) -> list[ScheduleStatus]:
    """One status per desired schedule, sorted by job."""
    by_key = {resource.key: resource for resource in live}
    return sorted(
        (_status(plans[d.job], d, by_key.get(d.key), runs.get(d.job), now) for d in desired),
        key=lambda status: (status.job, status.resource),
    )


def _status(
    plan: Mapping[str, Any],
    desired: DesiredResource,
    live: LiveResource | None,
    from_events: LastRun | None,
    now: datetime,
) -> ScheduleStatus:
    schedule = plan.get("schedule") or {}
    cron, zone = str(schedule.get("cron", "")), str(schedule.get("timezone", "UTC"))
    observed = live.observed if live is not None else {}
    last = _latest(from_events, _scheduler_run(observed))
    paused = bool(live and live.paused) or bool(schedule.get("paused"))
    return ScheduleStatus(
        job=desired.job,
        resource=str(desired.key),
        backend=desired.key.backend,
        schedule=fires.words(cron, zone) if cron else "no schedule",
        cron=cron,
        timezone=zone,
        live=live is not None,
        paused=paused,
        pause_note=observed.get("pause_note") if paused else None,
        next_runs=tuple(fires.next_fires(cron, zone, now)) if cron and not paused else (),
        last_run=last,
        lag_seconds=None if paused or not cron or live is None else _lag(cron, zone, last, now),
        counters={
            name: int(observed[name])
            for name in ("missed_catchup_window", "skipped_overlap", "running")
            if observed.get(name) is not None
        },
    )


def _lag(cron: str, zone: str, last: LastRun | None, now: datetime) -> float | None:
    """Seconds since the latest fire time passed without a run starting (None: on time, or
    never seen running, which leaves nothing to measure from)."""
    due = fires.last_fire(cron, zone, now)
    if last is None or last.started >= due - START_TOLERANCE or now - due < START_TOLERANCE:
        return None
    return round((now - due).total_seconds(), 1)


def _scheduler_run(observed: Mapping[str, Any]) -> LastRun | None:
    """The latest run the scheduler itself reports (its start, not its outcome)."""
    recent = [r.get("started_at") for r in observed.get("recent_runs") or []]
    started = [
        *filter(None, recent),
        *filter(None, [observed.get("last_scheduled_at")]),
    ]
    if not started:
        return None
    return LastRun(max(map(_parse, started)), outcome="started", source="scheduler")


def _latest(*runs: LastRun | None) -> LastRun | None:
    """The run that started last (an events record wins a tie: it knows the outcome)."""
    known = [run for run in runs if run is not None]
    return max(known, key=lambda run: (run.started, run.source == "events"), default=None)


def recent_runs(
    events: Path | None, environment: str, keep: int = RECENT
) -> dict[str, list[LastRun]]:
    """Each job's last ``keep`` runs from an ingestion-events file (JSON lines), oldest first, in
    one pass; {} when there is none. A run is its START with its terminal event, if any."""
    started: dict[str, deque[tuple[str, datetime]]] = {}  # job -> its latest (run id, start)s
    ended: dict[str, dict[str, Any]] = {}  # run id -> its terminal event
    for event in _events(events, environment):
        kind, run_id, job = event["eventType"], event["run"]["runId"], event["job"]["name"]
        if kind == "START":
            started.setdefault(job, deque(maxlen=keep)).append((run_id, _parse(event["eventTime"])))
        elif kind in TERMINAL:
            ended[run_id] = event
    return {
        job: [_run(run_id, start, ended.get(run_id)) for run_id, start in runs]
        for job, runs in started.items()
    }


def last_runs(events: Path | None, environment: str) -> dict[str, LastRun]:
    """Each job's latest run from an ingestion-events file; {} when there is none."""
    return {job: runs[-1] for job, runs in recent_runs(events, environment, 1).items()}


@dataclass(frozen=True)
class Ingested:
    """What an events file says reached the lake: each job's rows written, summed over its
    completed runs, and each of its tables' latest committed watermark (ISO 8601, UTC)."""

    rows: Mapping[str, int] = field(default_factory=dict)
    watermarks: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # job → table → at


def ingested(events: Path | None, environment: str) -> Ingested:
    """One pass over the environment's ingestion-events file; empty when there is none."""
    rows: dict[str, int] = {}
    watermarks: dict[str, dict[str, str]] = {}
    for event in _events(events, environment):
        if event["eventType"] != "COMPLETE":
            continue
        job = event["job"]["name"]
        written = _rows(event)
        if written is not None:
            rows[job] = rows.get(job, 0) + written
        watermarks.setdefault(job, {}).update(_watermarks(event))
    return Ingested(rows, {job: marks for job, marks in watermarks.items() if marks})


def events_file(root: Path, settings: Mapping[str, Any]) -> Path | None:
    """The environment's ingestion-events file, or None when events do not go to a file."""
    sink = settings.get("events")
    if not isinstance(sink, dict) or sink.get("sink") != "file" or not sink.get("path"):
        return None
    return root / str(sink["path"])


def _events(events: Path | None, environment: str) -> Iterator[dict[str, Any]]:
    """The environment's events in the file, in order (nothing when there is no file)."""
    if events is None or not events.is_file():
        return
    with events.open(encoding="utf-8") as lines:
        for line in lines:
            event = _event(line, environment)
            if event is not None:
                yield event


def _event(line: str, environment: str) -> dict[str, Any] | None:
    try:
        event = json.loads(line)
        ours = event["job"]["namespace"] == f"salam/{environment}"
        return event if ours and event["run"]["runId"] and event["eventTime"] else None
    except (ValueError, KeyError, TypeError):
        return None


def _run(run_id: str, start: datetime, end: Mapping[str, Any] | None) -> LastRun:
    if end is None:
        return LastRun(start, run_id=run_id)
    return LastRun(start, _parse(end["eventTime"]), TERMINAL[end["eventType"]], _rows(end), run_id)


def _rows(event: Mapping[str, Any]) -> int | None:
    """Rows the event's outputs say were written (None when no output counts them)."""
    rows = [
        ((output.get("outputFacets") or {}).get("outputStatistics") or {}).get("rowCount")
        for output in event.get("outputs") or []
    ]
    counted = [row for row in rows if isinstance(row, int)]
    return sum(counted) if counted else None


def _watermarks(event: Mapping[str, Any]) -> dict[str, str]:
    """Table → the watermark its commit in this run recorded (Salam's run facet)."""
    facet = ((event.get("run") or {}).get("facets") or {}).get("salam") or {}
    marks = {}
    for table in facet.get("tables") or []:
        after = (table.get("window") or {}).get("watermark_after")
        if table.get("status") == "committed" and isinstance(after, str):
            marks[str(table.get("target"))] = after
    return marks


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None
