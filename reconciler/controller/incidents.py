"""What is wrong in an environment now: the open incidents the controller alerts on.

Computed, after every pass of the loop (:mod:`.loop`), from the environment's status alone
(:class:`~reconciler.controller.status.EnvironmentStatus`): a failed apply or restore (until
the environment is in sync again), a policy that denied the target revision, drift per backend,
and per schedule (:mod:`reconciler.health`) a failed last run or lag — for the canary
(:mod:`ingestion.config.canary`) lag beyond its grace. An incident has a stable key
(environment, kind, subject), so the same problem seen again is the same incident;
:mod:`.alerting` sends one notification when a key appears and one when it goes. Pure: no I/O.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Iterator
from dataclasses import asdict, dataclass

from ingestion.config import canary
from reconciler import health
from reconciler.controller.status import EnvironmentStatus, SyncState
from reconciler.model import ApplyStatus
from reconciler.policy import PolicyDenied

APPLIED = {ApplyStatus.APPLIED.value, ApplyStatus.UNVERIFIED.value}
FAILED_RUNS = {"failed", "aborted"}
UNDER_WAY = {"running", "started"}  # a run neither opens nor clears a failure
MAX_SUMMARY = 300


class Kind(enum.StrEnum):
    """What went wrong; the value is the ``kind`` label and the key's middle part."""

    APPLY_FAILED = "apply-failed"
    RESTORE_FAILED = "restore-failed"
    POLICY_DENIED = "policy-denied"
    DRIFT = "drift"
    SCHEDULE_LATE = "schedule-late"
    INGESTION_FAILED = "ingestion-failed"
    CANARY_FAILED = "canary-failed"
    CANARY_LATE = "canary-late"


@dataclass(frozen=True)
class Incident:
    """One open problem; ``subject`` is the environment, a backend or a job."""

    environment: str
    kind: Kind
    subject: str
    summary: str

    @property
    def key(self) -> str:
        return f"{self.environment}/{self.kind.value}/{self.subject}"

    def to_json(self) -> dict[str, str]:
        return {**asdict(self), "kind": self.kind.value, "key": self.key}


def current(
    status: EnvironmentStatus, canary_grace: float | None, still_open: Collection[str] = ()
) -> list[Incident]:
    """The environment's open incidents, sorted by key; ``canary_grace`` (seconds) when the
    environment has a canary; ``still_open``: keys open before (a run under way keeps its
    failure open)."""
    found = [
        *_apply(status),
        *_policy(status),
        *_drift(status),
        *(
            incident
            for schedule in status.schedules
            for incident in _schedule(status.environment, schedule, canary_grace, still_open)
        ),
    ]
    return sorted(found, key=lambda incident: incident.key)


def _apply(status: EnvironmentStatus) -> Iterator[Incident]:
    last = status.last_apply
    if last is None or last.outcome in APPLIED or status.sync_state is SyncState.SYNCED:
        return
    kind = Kind.RESTORE_FAILED if last.outcome == ApplyStatus.RESTORE_FAILED else Kind.APPLY_FAILED
    revision = (last.revision or "?")[:12]
    summary = f"apply {last.apply_id} of {revision} {last.outcome} at {last.at}"
    yield Incident(status.environment, kind, status.environment, summary)


def _policy(status: EnvironmentStatus) -> Iterator[Incident]:
    if status.error_type == PolicyDenied.__name__ and status.last_error:
        summary = status.last_error[:MAX_SUMMARY]
        yield Incident(status.environment, Kind.POLICY_DENIED, status.environment, summary)


def _drift(status: EnvironmentStatus) -> Iterator[Incident]:
    for backend, kinds in sorted(status.drift_by_backend.items()):
        counts = ", ".join(f"{kind} {n}" for kind, n in sorted(kinds.items()) if n)
        if counts:
            summary = f"{sum(kinds.values())} resource(s) drifted ({counts})"
            yield Incident(status.environment, Kind.DRIFT, backend, summary)


def _schedule(
    env: str, schedule: health.ScheduleStatus, grace: float | None, still_open: Collection[str]
) -> Iterator[Incident]:
    is_canary = grace is not None and schedule.job == canary.NAME
    failed = Kind.CANARY_FAILED if is_canary else Kind.INGESTION_FAILED
    late = Kind.CANARY_LATE if is_canary else Kind.SCHEDULE_LATE
    was_open = Incident(env, failed, schedule.job, "").key in still_open
    failure = _failure(schedule.last_run, was_open)
    if failure:
        yield Incident(env, failed, schedule.job, failure)
    lag = schedule.lag_seconds
    if lag is not None and lag > (grace if is_canary and grace else 0.0):
        summary = f"no run started for {lag:.0f}s after a fire time ({schedule.schedule})"
        yield Incident(env, late, schedule.job, summary)


def _failure(last: health.LastRun | None, was_open: bool) -> str | None:
    """Why the job's runs count as failing now, or None."""
    if last is not None and last.outcome in FAILED_RUNS:
        return f"run {last.run_id} {last.outcome}"
    if last is not None and last.outcome in UNDER_WAY and was_open:
        return "a run is under way after a failed one"
    return None
