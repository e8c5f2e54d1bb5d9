"""``reconcile status`` against a real Temporal dev server: the next fire times are the server's
own (Temporal is the oracle for the cron code), a triggered schedule shows its last run, an
operator's pause shows with its note, and the last run's outcome and rows come from the
environment's ingestion events."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ingestion.shared import lineage
from tests.conftest import run_reconcile
from tests.reconciler.backends.temporal.conftest import Project
from tests.reconciler.backends.temporal.server import write_job
from tests.reconciler.backends.temporal.test_drift_temporal import apply, schedule_cli
from tests.reconciler.test_health import event_line

pytestmark = pytest.mark.integration


def status(project: Project, *args: str) -> tuple[int, dict[str, Any]]:
    result = run_reconcile(
        "status", "--env", "dev", "--root", str(project.root), "--output", "json",
        "--set", f"temporal.address={project.server.address}", *args,
    )  # fmt: skip
    return result.exit_code, json.loads(result.stdout)


def by_job(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {schedule["job"]: schedule for schedule in document["schedules"]}


@pytest.fixture
def applied(project: Project) -> Project:
    write_job(project.root, "dev", "orders", cron="*/20 * * * *")
    write_job(project.root, "dev", "customers", cron="30 4 * * 1")
    apply(project)
    return project


def test_next_runs_are_the_ones_temporal_itself_will_fire(applied: Project) -> None:
    code, document = status(applied)
    assert code == 0, document
    schedules = by_job(document)
    for job in ("orders", "customers"):
        schedule = f"salam-dev-{job}"
        described = applied.server.cli(
            "schedule", "describe", "--schedule-id", schedule, "-n", applied.namespace, "-o", "json"
        )
        info = json.loads(described.stdout)["info"]
        theirs = [_utc(t) for t in info["futureActionTimes"][:3]]
        assert [_utc(t) for t in schedules[job]["next_runs"]] == theirs, job
    assert schedules["orders"]["schedule"]["words"] == "every 20 minutes, UTC"
    assert schedules["customers"]["schedule"]["words"] == "Mondays at 04:30, UTC"
    assert schedules["orders"]["last_run"] is None and schedules["orders"]["lag_seconds"] is None


def test_a_triggered_schedule_shows_its_last_run_and_a_pause_its_note(applied: Project) -> None:
    schedule_cli(applied, "trigger", "--schedule-id", "salam-dev-orders")
    schedule_cli(
        applied, "toggle", "--pause", "--reason", "db maintenance",
        "--schedule-id", "salam-dev-customers",
    )  # fmt: skip
    _code, document = status(applied)
    orders, customers = by_job(document)["orders"], by_job(document)["customers"]
    last = orders["last_run"]
    assert last is not None and last["source"] == "scheduler" and last["outcome"] == "started"
    assert abs(_utc(last["started"]) - datetime.now(UTC)) < timedelta(minutes=2)
    assert customers["paused"] and customers["pause_note"] == "db maintenance"
    assert customers["next_runs"] == []


def test_the_last_run_outcome_and_rows_come_from_the_ingestion_events(applied: Project) -> None:
    events = applied.root / "events.jsonl"
    started = datetime.now(UTC) - timedelta(minutes=1)
    failed, done = lineage.uuid7(), lineage.uuid7()
    events.write_text(
        event_line("START", "orders", failed, started)
        + event_line("FAIL", "orders", failed, started)
        + event_line("START", "customers", done, started)
        + event_line("COMPLETE", "customers", done, started, rows=42)
    )
    code, document = status(
        applied, "--set", "events.sink=file", "--set", "events.path=events.jsonl"
    )
    schedules = by_job(document)
    assert schedules["orders"]["last_run"]["outcome"] == "failed"
    assert schedules["customers"]["last_run"]["outcome"] == "succeeded"
    assert schedules["customers"]["last_run"]["rows"] == 42
    assert code == 1  # a failed last run makes the status check fail


def test_text_status_is_a_table_a_person_reads(applied: Project) -> None:
    result = run_reconcile(
        "status", "--env", "dev", "--root", str(applied.root),
        "--set", f"temporal.address={applied.server.address}",
    )  # fmt: skip
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["job", "backend", "schedule", "next", "run", "last", "run", "lag"]
    assert any(line.startswith("orders ") and "every 20 minutes, UTC" in line for line in lines)
    assert "2 schedule(s); 0 failed or lagging." in result.stdout


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)
