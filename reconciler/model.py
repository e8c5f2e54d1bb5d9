"""The reconciler's core values: small frozen dataclasses shared by the engine and backends.

A resource is always named ``backend/scope/name`` (:class:`ResourceKey`). Desired and live
resources carry a canonical ``spec`` (what is diffed) and ``meta`` (ownership bookkeeping such as
the plan digest and git revision: written on apply, never diffed).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ingestion.exitcodes import ExitCode


class Action(enum.Enum):
    """What a change does to one live resource; the value is its change-set symbol.

    There is no replace: every field of every backend's spec can be updated in place (a
    crontab line is rewritten, a Temporal schedule and a CronJob are updated), and what
    cannot change (the resource's key) makes another resource. ``ADOPT`` takes over an object
    Salam does not own yet, in place: its marker is added and the fields the job sets are
    written, nothing is deleted or recreated (only when the job config or the command asks).
    ``MOVE`` is one job changing scheduler (its mode changed): the new schedule created paused,
    the old one removed between two fire times, the new one resumed (:mod:`reconciler.move`);
    its ``before`` is the old resource, at another key than the change's."""

    CREATE = "+"
    ADOPT = "<="
    MOVE = "->"
    UPDATE = "~"
    DELETE = "-"
    NOOP = " "

    @property
    def verb(self) -> str:
        return self.name.lower()

    @property
    def done(self) -> str:
        """The verb in the past tense, as results say it: ``created``, ``adopted``."""
        return f"{self.verb}d" if self.verb.endswith("e") else f"{self.verb}ed"

    @property
    def order(self) -> int:
        """Apply order: creates and updates first, deletes last."""
        return {"CREATE": 0, "ADOPT": 1, "UPDATE": 1, "MOVE": 1, "NOOP": 2, "DELETE": 3}[self.name]


@dataclass(frozen=True, order=True)
class ResourceKey:
    backend: str
    scope: str
    name: str

    def __str__(self) -> str:
        return f"{self.backend}/{self.scope}/{self.name}"


@dataclass(frozen=True)
class DesiredResource:
    """One schedule as the plan wants it, in the backend's canonical shape."""

    key: ResourceKey
    job: str
    spec: Mapping[str, Any] = field(compare=True)
    meta: Mapping[str, str] = field(default_factory=dict, compare=False)
    # written as Salam's (its ownership marker); False only when a restore gives an object an
    # apply adopted back as it was, unmarked (a release)
    owned: bool = field(default=True, compare=False)


@dataclass(frozen=True)
class LiveResource:
    """One schedule as the backend has it, in the same canonical shape as :class:`DesiredResource`.

    ``managed`` is True when it carries Salam's ownership marker for this environment; a backend
    only returns unmanaged resources whose key collides with a desired one (``foreign``).
    ``paused`` is set when an operator paused or suspended it outside Salam. ``observed`` is
    what the scheduler reports about its runs (recent and next runs, counters; ISO 8601 UTC
    times), for ``reconcile status``: never part of the desired state, never diffed.
    """

    key: ResourceKey
    job: str
    spec: Mapping[str, Any]
    meta: Mapping[str, str] = field(default_factory=dict, compare=False)
    managed: bool = True
    paused: bool = False
    observed: Mapping[str, Any] = field(default_factory=dict, compare=False)

    def as_desired(self) -> DesiredResource:
        """The live state as a desired state: what a rollback re-applies (an object that was
        not Salam's goes back unmarked)."""
        return DesiredResource(self.key, self.job, self.spec, self.meta, owned=self.managed)


@dataclass(frozen=True)
class FieldChange:
    path: str
    before: Any
    after: Any


@dataclass(frozen=True)
class Change:
    key: ResourceKey
    action: Action
    before: LiveResource | None
    after: DesiredResource | None
    fields: tuple[FieldChange, ...] = ()

    @property
    def job(self) -> str:
        resource = self.after or self.before
        return resource.job if resource else ""


@dataclass(frozen=True)
class ChangeSet:
    """Every change for one environment, in apply order, plus what blocks applying it.

    ``conflicts`` are live resources Salam does not own whose key collides with a desired one
    that may not adopt them: they are never touched, and an apply refuses while any remain.
    """

    environment: str
    changes: tuple[Change, ...]
    conflicts: tuple[LiveResource, ...] = ()

    def pending(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.action is not Action.NOOP)

    def count(self, action: Action) -> int:
        return sum(1 for c in self.changes if c.action is action)

    @property
    def empty(self) -> bool:
        return not self.pending()

    @property
    def in_sync(self) -> bool:
        """Nothing to change and nothing in the way: every desired resource is live and ours."""
        return self.empty and not self.conflicts


class ResultStatus(enum.Enum):
    """How applying one change ended."""

    APPLIED = "applied"
    FAILED = "failed"
    SKIPPED = "skipped"  # not attempted: an earlier change failed, or its backend went away


@dataclass(frozen=True)
class Result:
    """The outcome of applying one change; a failure is data, not an exception.

    ``error`` says why a change failed or was skipped (never a secret)."""

    change: Change
    status: ResultStatus
    error: str = ""

    @classmethod
    def applied(cls, change: Change) -> Result:
        return cls(change, ResultStatus.APPLIED)

    @classmethod
    def failed(cls, change: Change, error: str) -> Result:
        return cls(change, ResultStatus.FAILED, error)

    @classmethod
    def skipped(cls, change: Change, reason: str) -> Result:
        return cls(change, ResultStatus.SKIPPED, reason)

    @property
    def ok(self) -> bool:
        return self.status is ResultStatus.APPLIED


class ApplyStatus(enum.StrEnum):
    """How a whole apply ended (the value is what the journal and audit log record); each
    status carries the exit code the command ends with."""

    APPLIED = "applied"  # every change applied and verified
    UNVERIFIED = "unverified"  # applied, but re-reading did not show it in time
    ROLLED_BACK = "rolled-back"  # a change failed; what was changed is restored
    RESTORE_FAILED = "restore-failed"  # a change failed and restoring failed too
    LEASE_LOST = "lease-lost"  # the apply lease was lost: stopped before the next write

    @property
    def exit_code(self) -> ExitCode:
        return {
            ApplyStatus.APPLIED: ExitCode.OK,
            ApplyStatus.UNVERIFIED: ExitCode.ERROR,
            ApplyStatus.ROLLED_BACK: ExitCode.ERROR,
            ApplyStatus.RESTORE_FAILED: ExitCode.ROLLBACK_FAILED,
            ApplyStatus.LEASE_LOST: ExitCode.ERROR,
        }[self]
