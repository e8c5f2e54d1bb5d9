"""The status model's judgement, on fixed clocks: lag is the time since a fire passed without a
run starting (never for a paused schedule, nor within the start-up tolerance), a START without
its ending is a running run, and the scheduler's own record of a later start wins over an older
event."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ingestion.shared import lineage
from reconciler import health
from reconciler.model import DesiredResource, LiveResource, ResourceKey
from tests import openlineage

NOW = datetime(2026, 12, 7, 10, 40, tzinfo=UTC)  # the hourly :15 fire was 25 minutes ago
KEY = ResourceKey("crontab", "file:cron", "orders")
PLAN = {"schedule": {"cron": "15 * * * *", "timezone": "UTC"}}


def one(
    last: health.LastRun | None, paused: bool = False, observed: dict[str, object] | None = None
) -> health.ScheduleStatus:
    live = LiveResource(KEY, "orders", {}, paused=paused, observed=observed or {})
    runs = {"orders": last} if last else {}
    [built] = health.build(
        {"orders": PLAN}, [DesiredResource(KEY, "orders", {})], [live], runs, NOW
    )
    return built


def test_a_fire_without_a_run_is_lag_measured_from_the_fire() -> None:
    built = one(health.LastRun(NOW - timedelta(hours=3), NOW - timedelta(hours=2), "succeeded"))
    assert built.lag_seconds == 25 * 60
    assert [t.isoformat() for t in built.next_runs][:2] == [
        "2026-12-07T11:15:00+00:00",
        "2026-12-07T12:15:00+00:00",
    ]


def test_a_run_of_the_latest_fire_is_on_time_and_a_paused_schedule_never_lags() -> None:
    assert one(health.LastRun(NOW - timedelta(minutes=24))).lag_seconds is None
    assert one(health.LastRun(NOW - timedelta(hours=3)), paused=True).lag_seconds is None
    assert one(health.LastRun(NOW - timedelta(hours=3)), paused=True).next_runs == ()


def test_the_schedulers_later_start_wins_over_an_older_event() -> None:
    started = (NOW - timedelta(minutes=24)).isoformat()
    built = one(
        health.LastRun(NOW - timedelta(hours=3), outcome="succeeded"),
        observed={"recent_runs": [{"started_at": started}], "missed_catchup_window": 2},
    )
    assert built.last_run is not None and built.last_run.source == "scheduler"
    assert built.lag_seconds is None and built.counters == {"missed_catchup_window": 2}


def event_line(
    kind: str,
    job: str,
    run_id: str,
    at: datetime,
    rows: int | None = None,
    env: str = "dev",
    watermark: tuple[str, datetime] | None = None,
) -> str:
    """One ingestion event as the job writes it (validated against the OpenLineage schemas);
    ``watermark``: a table and the watermark its commit recorded in Salam's run facet (the
    shape tests/ingestion/job/test_lineage.py checks on a real run)."""
    facets = {}
    if watermark is not None:
        table, moved_to = watermark
        committed = {"target": table, "status": "committed",
                     "window": {"watermark_after": lineage.format_time(moved_to)}}  # fmt: skip
        facets["salam"] = lineage.facet(lineage.SALAM_RUN_FACET, tables=[committed])
    outputs = []
    if rows is not None:
        statistics = lineage.facet(lineage.OUTPUT_STATISTICS, rowCount=rows, size=1, fileCount=1)
        outputs = [
            {
                "namespace": "file",
                "name": "/lake/t",
                "outputFacets": {"outputStatistics": statistics},
            }
        ]
    event = lineage.run_event(
        kind, run_id, {"namespace": lineage.job_namespace(env), "name": job}, facets,
        outputs=outputs, event_time=lineage.format_time(at),
    )  # fmt: skip
    return json.dumps(openlineage.validate(event)) + "\n"


def test_events_give_each_jobs_latest_run_its_outcome_and_rows(tmp_path: Path) -> None:
    r1, r2, r3 = (lineage.uuid7() for _ in range(3))
    at = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
    events = tmp_path / "events.jsonl"
    events.write_text(
        event_line("START", "orders", r1, at)
        + event_line("COMPLETE", "orders", r1, at + timedelta(minutes=5), rows=7)
        + event_line("START", "orders", r2, at + timedelta(minutes=15))
        + event_line("START", "payments", r3, at, env="prod")
        + "not json\n"
    )
    runs = health.last_runs(events, "dev")
    assert set(runs) == {"orders"}
    assert runs["orders"].run_id == r2 and runs["orders"].outcome == "running"
    assert health.last_runs(tmp_path / "missing.jsonl", "dev") == {}
    events.write_text(
        events.read_text().replace(
            event_line("START", "orders", r2, at + timedelta(minutes=15)), ""
        )
    )
    assert health.last_runs(events, "dev")["orders"].rows == 7


def test_recent_runs_keep_each_jobs_last_runs_oldest_first_with_their_outcomes(
    tmp_path: Path,
) -> None:
    at = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
    ids = [lineage.uuid7() for _ in range(3)]
    events = tmp_path / "events.jsonl"
    lines = []
    for i, run_id in enumerate(ids):
        ended, rows = at + timedelta(hours=i, minutes=5), None if i == 1 else i
        lines.append(event_line("START", "orders", run_id, at + timedelta(hours=i)))
        lines.append(event_line("FAIL" if i == 1 else "COMPLETE", "orders", run_id, ended, rows))
    events.write_text("".join(lines))
    recent = health.recent_runs(events, "dev", keep=2)
    assert [run.run_id for run in recent["orders"]] == ids[1:]
    assert [(run.outcome, run.rows) for run in recent["orders"]] == [
        ("failed", None),
        ("succeeded", 2),
    ]
    assert health.last_runs(events, "dev")["orders"] == recent["orders"][-1]
    assert health.recent_runs(None, "dev") == {}
