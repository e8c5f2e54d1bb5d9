"""The reconcile loop: load → validate → render → read live → diff → [apply → verify → audit].

:func:`prepare` does everything up to the change set (and, for an apply, takes the environment's
lock first so the change set cannot go stale); :func:`apply` journals, applies creates and
updates before deletes, restores from the journal if anything fails, verifies by re-reading and
writes the audit record. The engine never knows which backend it talks to.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingestion.config import loader
from ingestion.config.diagnostics import Diagnostic
from ingestion.config.modes import Mode
from ingestion.plan import environment as plans_of
from ingestion.plan import gitstamp
from reconciler import audit, diff, journal, lock, policy, revision
from reconciler.backends import base, registry
from reconciler.model import (
    Action,
    ApplyStatus,
    Change,
    ChangeSet,
    DesiredResource,
    LiveResource,
    ResourceKey,
    Result,
)


def default_route() -> dict[str, str]:
    """Which backend holds the schedules of each mode: the mode's own."""
    return {mode.value: mode.backend for mode in Mode}


@dataclass(frozen=True)
class ReconcileOptions:
    """What to reconcile and how; built by the CLI, or by tests directly."""

    root: Path
    env: str
    overrides: tuple[str, ...] = ()
    jobs: tuple[str, ...] = ()
    backends: tuple[str, ...] = ()
    prune: bool = True
    allow_empty: bool = False
    lock_timeout: float = 60.0
    verify_attempts: int = 5
    revision: str | None = None
    allow_dirty: bool = False
    fail_on_warn: bool = False
    plans: Mapping[str, Mapping[str, Any]] | None = None  # given plans, instead of rendering
    # looked up at construction, so a test can route every mode to one backend
    route: Mapping[str, str] = field(default_factory=lambda: default_route())  # noqa: PLW0108


PROTECTED_ENVIRONMENTS = ("prod",)


class EngineError(Exception):
    """The run cannot go on; nothing was changed. Carries a hint for the person."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint


@dataclass
class Reconciliation:
    """One environment's plans, backends, desired and live resources and their change set."""

    options: ReconcileOptions
    environment: loader.Environment
    plans: dict[str, dict[str, Any]]
    backends: dict[str, base.Backend]
    desired: list[DesiredResource]
    live: list[LiveResource]
    change_set: ChangeSet
    notes: list[str]
    warnings: list[Diagnostic] = field(default_factory=list)

    @property
    def state_dir(self) -> Path:
        return state_dir(self.environment)

    @property
    def revision(self) -> str | None:
        for plan in self.plans.values():
            return plan["bookkeeping"].get("git_revision")
        return None

    def paused(self) -> list[LiveResource]:
        return [r for r in self.live if r.paused]


@dataclass(frozen=True)
class ApplyOutcome:
    """How an apply ended, what each change did, and what was restored."""

    status: ApplyStatus
    results: tuple[Result, ...]
    restored: tuple[Result, ...] = ()
    unverified: tuple[Change, ...] = ()
    apply_id: str = ""


@contextlib.contextmanager
def prepare(options: ReconcileOptions, for_apply: bool = False) -> Iterator[Reconciliation]:
    """Load, render, read and diff; for an apply, under the environment's lock."""
    environment, stamp = _load(options)
    plans = (
        {job: dict(plan) for job, plan in options.plans.items()}
        if options.plans is not None
        else _selected_plans(environment, options, stamp)
    )
    warnings = [*environment.warnings, *policy.enforce(environment, plans, options.fail_on_warn)]
    available = registry.load_all()
    names, notes = _backend_names(environment, plans, options, available)
    plans = {job: plan for job, plan in plans.items() if options.route[plan["mode"]] in names}
    with contextlib.ExitStack() as stack:
        empty = ChangeSet(options.env, ())
        current = Reconciliation(options, environment, plans, {}, [], [], empty, notes, warnings)
        if for_apply:
            stack.enter_context(lock.hold(current.state_dir / "apply.lock", options.lock_timeout))
            abandoned = journal.unfinished(current.state_dir / "journal")
            notes += [
                f"apply {a} was interrupted; converging from the live state" for a in abandoned
            ]
        for name in names:
            current.backends[name] = stack.enter_context(base.create(name, environment))
        current.desired = [
            current.backends[options.route[p["mode"]]].render(p) for p in plans.values()
        ]
        current.live = _read(current.backends, options)
        current.change_set = diff.compute(options.env, current.desired, current.live, options.prune)
        yield current


def apply(current: Reconciliation) -> ApplyOutcome:
    """Apply the session's change set; restore from the journal if any change fails."""
    pending = current.change_set.pending()
    _guard(current, pending)
    record = journal.start(current.state_dir / "journal", pending, current.revision)
    results = _apply_in_order(current.backends, pending)
    restored: list[Result] = []
    unverified: tuple[Change, ...] = ()
    if all(r.ok for r in results):
        unverified = _verify(current, {c.key for c in pending})
        status = ApplyStatus.UNVERIFIED if unverified else ApplyStatus.APPLIED
    else:
        restored = _restore(current, record)
        ok = all(r.ok for r in restored)
        status = ApplyStatus.ROLLED_BACK if ok else ApplyStatus.RESTORE_FAILED
    record.finish(status.value)
    audit.record(
        current.state_dir,
        record.apply_id,
        current.revision,
        current.plans,
        results,
        status.value,
        restored,
    )
    return ApplyOutcome(status, tuple(results), tuple(restored), unverified, record.apply_id)


def state_dir(environment: loader.Environment) -> Path:
    """Where the environment's journal, audit log, kept plans and lock live."""
    configured = Path(str(environment.settings.get("state_dir", ".salam/state")))
    base_dir = configured if configured.is_absolute() else environment.root / configured
    return base_dir / environment.name


def _load(options: ReconcileOptions) -> tuple[loader.Environment, gitstamp.GitStamp]:
    if options.revision:
        try:
            return revision.environment_at(
                options.root, options.env, options.revision, options.overrides
            )
        except revision.RevisionError as exc:
            raise EngineError(
                str(exc), "use a commit, tag or branch that exists (git log --oneline)"
            ) from exc
    environment = loader.load_environment(options.root, options.env, options.overrides)
    return environment, gitstamp.stamp(environment.root, f"{loader.ENVIRONMENTS_DIR}/{options.env}")


def _selected_plans(
    environment: loader.Environment, options: ReconcileOptions, stamp: gitstamp.GitStamp
) -> dict[str, dict[str, Any]]:
    plans = plans_of.render_all(environment, git=stamp)
    unknown = sorted(set(options.jobs) - set(plans))
    if unknown:
        raise EngineError(
            f"no job {', '.join(unknown)} in environment '{environment.name}'",
            f"jobs: {', '.join(sorted(plans)) or 'none'}",
        )
    return {job: plan for job, plan in plans.items() if not options.jobs or job in options.jobs}


def _backend_names(
    environment: loader.Environment,
    plans: Mapping[str, Mapping[str, Any]],
    options: ReconcileOptions,
    available: Sequence[str],
) -> tuple[list[str], list[str]]:
    unknown = sorted(set(options.backends) - set(available))
    if unknown:
        raise EngineError(
            f"unknown backend {', '.join(unknown)}", f"available: {', '.join(available)}"
        )
    wanted = {options.route[p["mode"]] for p in plans.values()}
    wanted |= base.configured(environment) & set(available)
    if options.backends:
        wanted &= set(options.backends)
    missing = sorted(wanted - set(available))
    notes = [f"backend '{n}' is not available in this build: its jobs are skipped" for n in missing]
    return sorted(wanted & set(available)), notes


def _read(
    backends: Mapping[str, base.Backend],
    options: ReconcileOptions,
    only: Collection[str] | None = None,
) -> list[LiveResource]:
    """Read every backend (or only those named in ``only``), narrowed to the selected jobs."""
    chosen = [b for name, b in backends.items() if only is None or name in only]
    live = [resource for backend in chosen for resource in backend.read()]
    if options.jobs:
        live = [r for r in live if r.job in options.jobs]
    return live


def _guard(current: Reconciliation, pending: Sequence[Change]) -> None:
    dirty = sorted(
        job for job, plan in current.plans.items() if plan["bookkeeping"].get("git_dirty")
    )
    if dirty and current.options.env in PROTECTED_ENVIRONMENTS and not current.options.allow_dirty:
        raise EngineError(
            f"refusing to apply to {current.options.env} from uncommitted changes "
            f"({', '.join(dirty)})",
            "commit the change (or pass --allow-dirty if you really mean it)",
        )
    if current.change_set.conflicts:
        names = ", ".join(str(r.key) for r in current.change_set.conflicts)
        raise EngineError(
            f"not applying: {names} exist(s) but are not managed by Salam",
            "rename the job, or remove or adopt the existing object by hand",
        )
    managed = [r for r in current.live if r.managed]
    deletes = [c for c in pending if c.action is Action.DELETE]
    if managed and len(deletes) == len(managed) and not current.options.allow_empty:
        raise EngineError(
            f"refusing to delete all {len(managed)} managed resource(s) "
            f"of environment '{current.options.env}'",
            "an empty or broken checkout looks like this; pass --allow-empty if it is really meant",
        )


def _apply_in_order(
    backends: Mapping[str, base.Backend], changes: Sequence[Change]
) -> list[Result]:
    """One batch per backend (creates and updates first, deletes last); stop after a failure."""
    results: list[Result] = []
    for name in sorted({c.key.backend for c in changes}):
        batch = sorted(
            (c for c in changes if c.key.backend == name), key=lambda c: (c.action.order, c.key)
        )
        if any(not r.ok for r in results):
            results += [Result.skipped(c, "an earlier change failed") for c in batch]
        else:
            results += _apply_batch(backends[name], batch)
    return results


def _apply_batch(backend: base.Backend, batch: list[Change]) -> list[Result]:
    try:
        return backend.apply(batch)
    except base.BackendError as exc:
        return [Result.failed(change, str(exc)) for change in batch]


def _restore(current: Reconciliation, record: journal.Journal) -> list[Result]:
    """Put every touched resource back as the journal recorded it, with the same diff and apply."""
    touched = record.keys()
    try:
        touched_backends = {key.backend for key in touched}
        live = [
            r
            for r in _read(current.backends, current.options, touched_backends)
            if r.key in touched
        ]
    except base.BackendError as exc:
        return [
            Result.failed(Change(key, Action.NOOP, None, None), f"cannot re-read: {exc}")
            for key in touched
        ]
    desired = [r.as_desired() for r in record.before_images()]
    restore = diff.compute(current.options.env, desired, live, prune=True)
    return _apply_in_order(current.backends, restore.pending())


def _verify(current: Reconciliation, applied: set[ResourceKey]) -> tuple[Change, ...]:
    """Re-read until the applied keys show no difference (backends may lag), a bounded time.

    Only the backends the apply touched are read again."""
    touched = {key.backend for key in applied}
    desired = [d for d in current.desired if d.key.backend in touched]
    remaining: tuple[Change, ...] = ()
    for attempt in range(current.options.verify_attempts):
        live = _read(current.backends, current.options, touched)
        check = diff.compute(current.options.env, desired, live, current.options.prune)
        remaining = tuple(c for c in check.pending() if c.key in applied)
        if not remaining:
            return ()
        time.sleep(0.2 * (attempt + 1))
    return remaining
