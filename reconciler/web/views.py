"""Where the pages get an environment's state: the running controller, or one pass on demand.

An :class:`EnvView` is what every page renders from: the controller's status model
(:class:`~reconciler.controller.status.EnvironmentStatus`), the last comparison whole
(:class:`~reconciler.web.snapshot.Snapshot`; None before the first) and the audit log.
:class:`ControllerViews` reads them from ``reconcile serve``'s loops (as of their last pass);
:class:`LocalViews` (``reconcile ui``) runs one read-only pass per page load, so a reload shows
live as it is now. A pass that fails is a view with the error, not an exception. With the web
UI's actions on (``reconcile serve --actions-token-ref``), each view carries their CSRF token,
so pages show the action buttons (``reconcile ui`` never has actions).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from reconciler import audit
from reconciler.controller import alerting, pin
from reconciler.controller import policy as sync_policy
from reconciler.controller.run import Controller
from reconciler.controller.status import (
    EnvironmentStatus,
    LastApply,
    SyncState,
    failure,
    now,
    stamp,
)
from reconciler.web import snapshot


@dataclass(frozen=True)
class EnvView:
    status: EnvironmentStatus
    snapshot: snapshot.Snapshot | None
    history: list[dict[str, Any]] = field(default_factory=list)  # audit records, oldest first
    csrf: str | None = None  # the actions' CSRF token when they are on (pages show buttons)

    def last_apply(self) -> LastApply | None:
        """The last apply the audit log records (the controller's or the CLI's)."""
        if not self.history:
            return self.status.last_apply
        entry = audit.row(self.history[-1])
        revision, outcome = entry["revision"], entry["outcome"]
        return LastApply(entry["apply_id"], revision, outcome, entry["time"], entry["changes"])


class Views(Protocol):
    def environments(self) -> Sequence[str]: ...

    def root(self) -> Path: ...  # the project's root (the compare page loads from it)

    def view(self, env: str) -> EnvView: ...


class ControllerViews:
    """The running controller's environments, as of each one's last pass."""

    def __init__(self, controller: Controller, csrf: str | None = None) -> None:
        self.controller, self.csrf = controller, csrf

    def environments(self) -> Sequence[str]:
        return list(self.controller.loops)

    def root(self) -> Path:
        return next(iter(self.controller.loops.values())).target.root

    def view(self, env: str) -> EnvView:
        loop = self.controller.loops[env]
        return EnvView(loop.status, loop.snapshot, audit.history(loop.state_dir), self.csrf)


@dataclass(frozen=True)
class LocalViews:
    """One read-only pass per view (``reconcile ui``): ``options(env)`` says what to compare."""

    envs: Sequence[str]
    options: Callable[[str], Any]  # env → engine.ReconcileOptions

    def environments(self) -> Sequence[str]:
        return list(self.envs)

    def root(self) -> Path:
        return Path(self.options(self.envs[0]).root)

    def view(self, env: str) -> EnvView:
        from reconciler import engine  # loaded on the first page, not at start

        try:
            with engine.prepare(self.options(env)) as current:
                seen = snapshot.of(current, now())
                settings = current.environment.settings
                state = engine.state_dir(current.environment)
                policy = sync_policy.of(env, settings, engine.PROTECTED_ENVIRONMENTS)
        except Exception as exc:  # a page shows the failure; the server goes on
            failed = EnvironmentStatus(env, "unknown", False, sync_state=SyncState.FAILED)
            return EnvView(_failed(failed, exc), None)
        return EnvView(_status(seen, policy, state), seen, audit.history(state))


def _status(
    seen: snapshot.Snapshot, policy: sync_policy.SyncPolicy, state: Path
) -> EnvironmentStatus:
    held = pin.read(state)
    in_sync = seen.change_set.in_sync
    return EnvironmentStatus(
        seen.environment,
        policy.mode.value,
        policy.self_heal,
        sync_state=SyncState.SYNCED if in_sync else SyncState.OUT_OF_SYNC,
        branch_head=seen.revision,
        target_revision=held.revision if held else seen.revision,
        pinned=held.to_json() if held else None,
        drift=seen.drift_counts(),
        last_check=stamp(seen.taken),
        schedules=seen.schedules,
        ingested=seen.ingested,
        alerts=alerting.Alerter(state).listed(),  # as the controller last recorded them
    )


def _failed(status: EnvironmentStatus, exc: Exception) -> EnvironmentStatus:
    return dataclasses.replace(status, last_error=failure(exc), last_check=stamp(now()))
