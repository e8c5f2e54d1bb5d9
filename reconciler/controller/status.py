"""The controller's status model: one frozen :class:`EnvironmentStatus` per environment.

The loop replaces an environment's status after each phase; the HTTP server renders it as JSON
and as Prometheus metrics (:mod:`reconciler.controller.metrics`): one model, several
renderings. Each comparison also records every schedule's health (:mod:`reconciler.health`),
drift per backend, and the rows the jobs wrote; applies are counted by outcome; the open alerts
are the incidents :mod:`.alerting` has notified and not yet resolved. Times are UTC ISO strings.
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from reconciler import health


class SyncState(enum.StrEnum):
    UNKNOWN = "unknown"  # not compared yet
    SYNCED = "synced"  # live equals the target revision
    OUT_OF_SYNC = "out-of-sync"  # live differs (detect mode, self-heal off, or a window)
    FAILED = "failed"  # the last attempt failed; backing off


class Phase(enum.StrEnum):
    IDLE = "idle"
    FETCHING = "fetching"
    COMPARING = "comparing"
    APPLYING = "applying"  # waiting for the environment's lock, applying, verifying


@dataclass(frozen=True)
class LastApply:
    apply_id: str
    revision: str | None
    outcome: str
    at: str
    changes: int


@dataclass(frozen=True)
class OpenAlert:
    """An incident alerted on and not resolved yet (:mod:`.incidents`, :mod:`.alerting`)."""

    key: str  # environment/kind/subject
    kind: str
    subject: str
    summary: str
    since: str


@dataclass(frozen=True)
class EnvironmentStatus:
    environment: str
    mode: str
    self_heal: bool
    phase: Phase = Phase.IDLE
    sync_state: SyncState = SyncState.UNKNOWN
    branch_head: str | None = None
    target_revision: str | None = None  # what the controller renders: the head, or the pin
    revision_applied: str | None = None
    pinned: dict[str, Any] | None = None
    drift: dict[str, int] = field(default_factory=dict)
    blocked: str | None = None  # why a needed apply did not happen (window, detect, self-heal)
    last_apply: LastApply | None = None
    last_check: str | None = None
    attempts: int = 0  # sync attempts since start
    failures: int = 0  # in a row; the back-off grows with it
    last_error: str | None = None
    error_type: str | None = None  # the class of the last error (PolicyDenied, SourceError, ...)
    next_sync: str | None = None
    drift_by_backend: dict[str, dict[str, int]] = field(default_factory=dict)  # counted, zeros too
    applies: dict[str, int] = field(default_factory=dict)  # outcome → applies since start
    schedules: tuple[health.ScheduleStatus, ...] = ()  # as of the last comparison
    ingested: health.Ingested = field(default_factory=health.Ingested)  # the events file
    alerts: tuple[OpenAlert, ...] = ()  # open incidents, alerted on, by key

    @property
    def checked(self) -> bool:
        """Whether at least one attempt has finished."""
        return self.last_check is not None

    def to_json(self) -> dict[str, Any]:
        document = asdict(dataclasses.replace(self, schedules=()))
        document["schedules"] = [schedule.as_json() for schedule in self.schedules]
        document["phase"] = self.phase.value
        document["sync_state"] = self.sync_state.value
        return document


def now() -> datetime:
    return datetime.now(UTC)


def stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def failure(exc: Exception) -> str:
    """An attempt's failure in one line: the error, its first diagnostics, its hint."""
    message = f"{type(exc).__name__}: {exc}"
    hint = getattr(exc, "hint", "")
    details = [d.render() for d in getattr(exc, "diagnostics", [])][:5]
    return "; ".join([message, *details] + ([f"hint: {hint}"] if hint else []))
