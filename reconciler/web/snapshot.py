"""One read-only comparison of an environment, kept whole for the web UI's pages.

The controller's loop (:mod:`reconciler.controller.loop`) takes a :class:`Snapshot` on every
pass and derives its status counts from it; ``reconcile ui`` takes one per page load with
:func:`build`. It holds what the pages show and nothing they must compute again: the plans,
each job's description and config path, the live resources Salam owns, the change set, the
drift findings (ignore rules applied), every schedule's health, each job's recent runs and
the rows and watermarks the events file records. Values are those of plans and
canonical specs, which never hold secrets.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from reconciler import drift, health
from reconciler.backends import base
from reconciler.model import Change, ChangeSet, LiveResource

if TYPE_CHECKING:
    from reconciler import engine


@dataclass(frozen=True)
class Snapshot:
    environment: str
    taken: datetime
    revision: str | None  # the git revision of the files compared (None: not a git tree)
    dirty: bool
    plans: Mapping[str, Mapping[str, Any]]
    configs: Mapping[str, Mapping[str, str]]  # job → {"path": …, "description": …}
    live: tuple[LiveResource, ...]
    change_set: ChangeSet
    findings: tuple[drift.Finding, ...]
    schedules: tuple[health.ScheduleStatus, ...]
    ingested: health.Ingested
    recent_runs: Mapping[str, tuple[health.LastRun, ...]]  # job → its last runs, oldest first
    pausable: frozenset[str] = frozenset()  # jobs whose backends can hold their schedules paused

    @property
    def counted(self) -> list[drift.Finding]:
        return drift.counted(self.findings)

    def drift_counts(self) -> dict[str, int]:
        """Counted drift per kind, the kinds with none left out."""
        return {kind: n for kind, n in drift.summary(self.counted).items() if n}

    def jobs(self) -> list[str]:
        return sorted(self.plans)

    def changes_of(self, job: str) -> list[Change]:
        return [change for change in self.change_set.pending() if change.job == job]

    def live_of(self, job: str) -> list[LiveResource]:
        return [resource for resource in self.live if resource.job == job]

    def findings_of(self, job: str) -> list[drift.Finding]:
        return [finding for finding in self.findings if finding.job == job]

    def schedules_of(self, job: str) -> list[health.ScheduleStatus]:
        return [schedule for schedule in self.schedules if schedule.job == job]


def of(current: engine.Reconciliation, now: datetime) -> Snapshot:
    """The snapshot of a prepared (read-only, pruning) reconciliation."""
    settings = current.environment.settings
    found = drift.classify(current.change_set, current.live)
    events = health.events_file(current.environment.root, settings)
    recent = health.recent_runs(events, current.options.env)
    runs = {job: listed[-1] for job, listed in recent.items()}
    return Snapshot(
        environment=current.options.env,
        taken=now,
        revision=current.stamp.revision,
        dirty=bool(current.stamp.dirty_paths),
        plans=current.plans,
        configs={job.name: _config(job.path, job.data) for job in current.environment.jobs},
        live=tuple(resource for resource in current.live if resource.managed),
        change_set=current.change_set,
        findings=tuple(drift.apply_ignores(found, drift.rules_of(settings))),
        schedules=tuple(health.build(current.plans, current.desired, current.live, runs, now)),
        ingested=health.ingested(events, current.options.env),
        recent_runs={job: tuple(listed) for job, listed in recent.items()},
        pausable=_pausable(current),
    )


def build(options: engine.ReconcileOptions, now: datetime) -> Snapshot:
    """One read-only pass (no lock is taken, nothing is written)."""
    from reconciler import engine  # the engine and its backends load when a page needs them

    with engine.prepare(options) as current:
        return of(current, now)


def _pausable(current: engine.Reconciliation) -> frozenset[str]:
    """The jobs ``reconcile pause`` can hold paused: every backend they are on can."""
    backends = current.backends
    can = {d.job: True for d in current.desired}
    for resource in current.desired:
        can[resource.job] &= base.can_pause(backends[resource.key.backend], resource)
    return frozenset(job for job, able in can.items() if able)


def _config(path: str, data: Mapping[str, Any]) -> dict[str, str]:
    return {"path": path, "description": str(data.get("description") or "")}
