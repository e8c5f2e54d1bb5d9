"""Which incidents a status holds: the rules of :mod:`reconciler.controller.incidents` that the
loop tests do not reach (policy denied, a failed apply until live is in sync again, drift per
backend, a failure kept open while a new run is under way, the canary's grace)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from reconciler import health
from reconciler.controller.incidents import Kind, current
from reconciler.controller.status import EnvironmentStatus, LastApply, SyncState

NOW = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)


def _schedule(job: str, outcome: str | None, lag: float | None = None) -> health.ScheduleStatus:
    last = None if outcome is None else health.LastRun(NOW, outcome=outcome, run_id="r1")
    return health.ScheduleStatus(
        job, f"temporal/ns/salam-dev-{job}", "temporal", "daily", "0 6 * * *", "UTC",
        True, False, None, (), last, lag,
    )  # fmt: skip


def _kinds(status: EnvironmentStatus, grace: float | None = None, *still: str) -> list[str]:
    return [f"{i.kind}/{i.subject}" for i in current(status, grace, still)]


def test_policy_denied_failed_apply_and_drift_are_incidents() -> None:
    failed = LastApply("a1", "abc", "rolled-back", "2026-12-07T06:00:00+00:00", 2)
    status = EnvironmentStatus(
        "dev",
        "apply",
        False,
        sync_state=SyncState.FAILED,
        last_apply=failed,
        last_error="PolicyDenied: SALAM-OWNER ...",
        error_type="PolicyDenied",
        drift_by_backend={"crontab": {"modified": 1, "missing": 0}, "temporal": {"missing": 0}},
    )
    assert _kinds(status) == ["apply-failed/dev", "drift/crontab", "policy-denied/dev"]
    synced = dataclasses.replace(
        status, sync_state=SyncState.SYNCED, error_type=None, drift_by_backend={}
    )
    assert _kinds(synced) == []  # the failed apply no longer matters once live is in sync
    restore = LastApply("a2", "abc", "restore-failed", "2026-12-07T06:00:00+00:00", 2)
    assert _kinds(EnvironmentStatus("dev", "apply", False, last_apply=restore)) == [
        "restore-failed/dev"
    ]


def test_a_run_under_way_keeps_a_failure_open_but_does_not_open_one() -> None:
    running = EnvironmentStatus("dev", "detect", False, schedules=(_schedule("a", "running"),))
    assert _kinds(running) == []
    assert _kinds(running, None, "dev/ingestion-failed/a") == ["ingestion-failed/a"]


def test_the_canary_has_its_own_kinds_and_is_late_only_beyond_its_grace() -> None:
    schedules = (_schedule("canary", "failed", lag=600.0), _schedule("a", "succeeded", lag=600.0))
    status = EnvironmentStatus("dev", "detect", False, schedules=schedules)
    assert _kinds(status, 3600.0) == ["canary-failed/canary", "schedule-late/a"]
    assert _kinds(status, 300.0) == [
        "canary-failed/canary",
        "canary-late/canary",
        "schedule-late/a",
    ]
    assert Kind.CANARY_LATE.value == "canary-late"
