"""One environment's sync loop: fetch → pick the target → compare → apply or report.

:meth:`EnvironmentLoop.step` is one pass; it returns how long to wait before the next one. The
target is the branch head, or the revision pinned by ``reconcile rollback --to`` until git
catches up (then the pin is lifted). The comparison is a read-only
:func:`reconciler.engine.prepare` (``reconcile drift``'s classification and ignore rules give
the drift counts) and also yields every schedule's health (:mod:`reconciler.health`), kept
whole as :attr:`EnvironmentLoop.snapshot` for the web UI (:mod:`reconciler.web.snapshot`); an apply
is a second ``prepare(for_apply=True)`` — under the environment's lock, with a fresh change set
— and :func:`reconciler.engine.apply`, so the journal, policy and audit are the CLI's. An apply
happens in ``apply`` mode, inside the change windows, when the target is not the revision last
applied (a git change) or, with ``self_heal`` or when asked
(:meth:`EnvironmentLoop.request_sync`, the web UI's "sync now"), when live drifted. Any failure
(unreachable remote or backend, invalid config, a rolled-back apply) is recorded and backs off
exponentially, capped; the loop never stops on one. The revision last applied is read back from
the audit log at start, so a restart resumes where the last run left off. After every pass the
open incidents (:mod:`.incidents`) go to :mod:`.alerting`: one alert when one opens, one when it
resolves.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from ingestion.plan import canonical
from reconciler import audit, engine, health, metrics
from reconciler.controller import alerting, incidents, pin, policy
from reconciler.controller.source import Source, WorkTree
from reconciler.controller.status import (
    EnvironmentStatus,
    LastApply,
    Phase,
    SyncState,
    failure,
    now,
    stamp,
)
from reconciler.model import ApplyStatus
from reconciler.web import snapshot

log = logging.getLogger("salam.controller")
APPLIED = (ApplyStatus.APPLIED.value, ApplyStatus.UNVERIFIED.value)


@dataclass(frozen=True)
class Target:
    """What one environment is reconciled from, as the command was told."""

    root: Path
    env: str
    overrides: tuple[str, ...] = ()
    backends: tuple[str, ...] = ()
    lock_timeout: float = 60.0

    def options(self, revision: str | None, prune: bool, pinned: bool) -> engine.ReconcileOptions:
        return engine.ReconcileOptions(
            root=self.root,
            env=self.env,
            overrides=self.overrides,
            backends=self.backends,
            prune=prune,
            lock_timeout=self.lock_timeout,
            revision=revision,
            rollback=pinned,
        )


@dataclass(frozen=True)
class Comparison:
    """A read-only pass: the policy the target revision sets, how live differs from it, and
    the health of every schedule."""

    policy: policy.SyncPolicy
    in_sync: bool
    drift: dict[str, int]
    version: str  # the revision compared, or (work tree) a digest of its plans
    drift_by_backend: dict[str, dict[str, int]]
    schedules: tuple[health.ScheduleStatus, ...]
    ingested: health.Ingested
    alerts: alerting.Settings


class EnvironmentLoop:
    """The state machine of one environment; :attr:`status` is its latest status."""

    def __init__(
        self,
        target: Target,
        source: Source | WorkTree,
        initial: policy.SyncPolicy,
        state_dir: Path,
        publish: Callable[[EnvironmentStatus], None] = lambda _: None,
        alerts: alerting.Settings | None = None,
    ) -> None:
        self.target, self.source, self.policy, self.state_dir = target, source, initial, state_dir
        self._publish = publish
        self.applied = _last_applied(state_dir)
        self.snapshot: snapshot.Snapshot | None = None  # the last comparison, whole (web UI)
        self.alert_settings = alerts or alerting.Settings()
        self.alerter = alerting.Alerter(state_dir)
        self._sync_requested = threading.Event()  # the next pass applies drift, self-heal or not
        self.status = EnvironmentStatus(
            target.env,
            initial.mode.value,
            initial.self_heal,
            revision_applied=self.applied,
            alerts=self.alerter.listed(),
        )

    def step(self) -> float:
        """One pass; the seconds to wait before the next (the interval, or the back-off)."""
        self._update(phase=Phase.FETCHING, attempts=self.status.attempts + 1)
        try:
            self._sync()
        except Exception as exc:  # a controller outlives every failure, and reports it
            log.debug("%s: step failed", self.target.env, exc_info=True)
            self._failed(exc)
        self._alert()
        delay = self.policy.backoff(self.status.failures)
        self._update(
            phase=Phase.IDLE,
            last_check=stamp(now()),
            next_sync=stamp(now() + timedelta(seconds=delay)),
        )
        return delay

    def request_sync(self) -> None:
        """Make the next pass apply what drifted even with self-heal off (an explicit request;
        detect mode, the change windows and a rollback pin still hold). A pass that fails before
        it decides keeps the request for the one after."""
        self._sync_requested.set()

    def options_now(self) -> engine.ReconcileOptions:
        """What an apply asked for between passes (a pause from the web UI) reconciles from: the
        revision the loop targets (a work tree as it is now, unless a pin holds)."""
        pinned = self.status.pinned is not None
        follows_files = isinstance(self.source, WorkTree) and not pinned
        revision = None if follows_files else self.status.target_revision
        return self.target.options(revision, self.policy.prune, pinned=False)

    def _sync(self) -> None:
        requested = self._sync_requested.is_set()  # kept for the next pass if this one fails
        head = self.source.fetch()
        pinned = self._pin(head)
        revision = pinned.revision if pinned else head
        self._update(phase=Phase.COMPARING, branch_head=head, target_revision=revision)
        compared = self._compare(revision, pinned is not None)
        revision = compared.version
        self.policy, self.alert_settings = compared.policy, compared.alerts
        self._update(
            mode=compared.policy.mode.value,
            self_heal=compared.policy.self_heal,
            drift=compared.drift,
            drift_by_backend=compared.drift_by_backend,
            schedules=compared.schedules,
            ingested=compared.ingested,
            pinned=pinned.to_json() if pinned else None,
        )
        reason = self._reason_not_to_apply(compared, revision, requested)
        if requested:
            self._sync_requested.clear()  # decided: applied below, in sync, or blocked (said why)
        if compared.in_sync or reason:
            self._settled(compared.in_sync, reason, revision)
            return
        self._apply(revision, pinned is not None)

    def _pin(self, head: str | None) -> pin.Pin | None:
        """The pin that holds, lifting one git has caught up with (a work tree never does)."""
        held = pin.read(self.state_dir)
        if held is None or head is None:
            return held
        target = self.target
        if pin.caught_up(target.root, target.env, target.overrides, held.revision, head):
            pin.lift(self.state_dir)
            log.info("%s: git caught up with the pin %s; lifted", self.target.env, held.requested)
            return None
        return held

    def _compare(self, revision: str | None, pinned: bool) -> Comparison:
        with engine.prepare(self.target.options(revision, True, pinned)) as current:
            seen = snapshot.of(current, now())
            self.snapshot = seen
            return Comparison(
                policy.of(
                    self.target.env, current.environment.settings, engine.PROTECTED_ENVIRONMENTS
                ),
                current.change_set.in_sync,
                seen.drift_counts(),
                revision or _version(current.plans),
                metrics.drift_counts(current.backends, seen.counted),
                seen.schedules,
                seen.ingested,
                alerting.Settings.of(current.environment.settings),
            )

    def _reason_not_to_apply(
        self, compared: Comparison, revision: str, requested: bool
    ) -> str | None:
        if compared.policy.mode is policy.Mode.DETECT:
            return "detect mode: differences are reported, not applied"
        if revision == self.applied and not (compared.policy.self_heal or requested):
            return "live drifted from the applied revision; self_heal is off"
        allowed, why = compared.policy.may_apply(now())
        return None if allowed else why

    def _settled(self, in_sync: bool, reason: str | None, revision: str) -> None:
        state = SyncState.SYNCED if in_sync else SyncState.OUT_OF_SYNC
        if in_sync and self.applied != revision:
            self.applied = revision  # live already is what the revision says
        self._update(
            sync_state=state,
            blocked=None if in_sync else reason,
            failures=0,
            last_error=None,
            error_type=None,
            revision_applied=self.applied,
        )
        if reason and not in_sync:
            log.info("%s: out of sync, not applying: %s", self.target.env, reason)

    def _apply(self, revision: str, pinned: bool) -> None:
        given = None if isinstance(self.source, WorkTree) and not pinned else revision
        options = self.target.options(given, self.policy.prune, pinned)
        self._update(phase=Phase.APPLYING, blocked=None)  # from waiting for the lock on
        with engine.prepare(options, for_apply=True) as current:
            if current.change_set.in_sync:
                engine.remember(current)
                self._settled(True, None, revision)
                return
            count = len(current.change_set.pending())
            log.info("%s: applying %s (%d change(s))", self.target.env, revision[:12], count)
            outcome = engine.apply(current)
        last = LastApply(outcome.apply_id, revision, outcome.status.value, stamp(now()), count)
        applies = self.status.applies
        done = {**applies, last.outcome: applies.get(last.outcome, 0) + 1}
        self._update(last_apply=last, applies=done)
        if outcome.status.value not in APPLIED:
            raise ApplyFailed(f"apply {outcome.apply_id} {outcome.status.value}")
        self.applied = revision
        zeros = {b: dict.fromkeys(kinds, 0) for b, kinds in self.status.drift_by_backend.items()}
        self._update(drift={}, drift_by_backend=zeros)
        log.info("%s: %s (apply %s)", self.target.env, outcome.status.value, outcome.apply_id)
        self._settled(outcome.status is ApplyStatus.APPLIED, None, revision)

    def _failed(self, exc: Exception) -> None:
        message = failure(exc)
        failures = self.status.failures + 1
        log.warning(
            "%s: attempt failed (%d in a row; next in %.0fs): %s",
            self.target.env,
            failures,
            self.policy.backoff(failures),
            message,
        )
        self._update(
            sync_state=SyncState.FAILED,
            failures=failures,
            last_error=message,
            error_type=type(exc).__name__,
        )

    def _alert(self) -> None:
        """Alert on the incidents this pass left open (and on those it cleared)."""
        grace = self.alert_settings.canary_grace
        found = incidents.current(self.status, grace, self.alerter.open)
        try:
            self.alerter.update(found, self.alert_settings)
        except OSError as exc:  # the state directory: reported, the loop goes on
            log.warning("%s: open alerts not recorded: %s", self.target.env, exc)
        self._update(alerts=self.alerter.listed())

    def _update(self, **changes: object) -> None:
        self.status = dataclasses.replace(self.status, **changes)  # type: ignore[arg-type]
        self._publish(self.status)


class ApplyFailed(Exception):
    """An apply failed and was rolled back (or could not be): a failure to back off from."""


def _version(plans: Mapping[str, Mapping[str, Any]]) -> str:
    """A work tree's version: a digest of its plans' digests (git bookkeeping excluded)."""
    digests = {job: canonical.digest(plan) for job, plan in plans.items()}
    return "worktree:" + hashlib.sha256(canonical.compact(digests)).hexdigest()[:12]


def _last_applied(state_dir: Path) -> str | None:
    """The revision of the last successful apply in the audit log (a restart resumes from it)."""
    for entry in reversed(audit.history(state_dir)):
        if entry.get("outcome") in APPLIED:
            return entry.get("revision")
    return None
