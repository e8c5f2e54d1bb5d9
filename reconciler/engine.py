"""The reconcile loop: load → validate → render → read live → diff → [apply → verify → audit].

:func:`prepare` does everything up to the change set (and, for an apply, takes the environment's
lock first so the change set cannot go stale); :func:`apply` journals, applies creates and
updates before deletes, restores from the journal if anything fails (backend by backend: an
unreachable backend never stops the restore of the others), verifies by re-reading and
writes the audit record (and, when it verified clean, :mod:`reconciler.release`'s record). The
engine never knows which backend it talks to.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from concurrent import futures
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingestion.config import loader
from ingestion.config.diagnostics import Diagnostic
from ingestion.config.modes import Mode
from ingestion.plan import environment as plans_of
from ingestion.plan import gitstamp
from reconciler import (
    audit,
    changed,
    diff,
    inventory,
    journal,
    lock,
    move,
    placement,
    policy,
    release,
    revision,
    validation,
)
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
    ResultStatus,
)


def default_route() -> dict[str, str]:
    """Which backend holds the schedules of each mode: the mode's own."""
    return {mode.value: mode.backend for mode in Mode}


def quiet(stage: str) -> None:
    """Progress nobody shows (the default of ``ReconcileOptions.progress``)."""


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
    rollback: bool = False  # `reconcile rollback --to REV`: the audit marks it, with REV
    adopt: bool = False  # `--adopt`: every job may take over its unmanaged live object
    changed_since: str | None = None  # `--changed-since REV`: only the jobs a change touched
    moving: move.MoveOptions = field(default_factory=move.MoveOptions)  # how a move waits
    plans: Mapping[str, Mapping[str, Any]] | None = None  # given plans, instead of rendering
    progress: Callable[[str], None] = quiet  # told each stage as it starts (the CLI shows it)
    action: str | None = None  # "pause" / "resume" (reconciler.pausing): the audit marks it
    via: str | None = None  # "ui": asked for from the web UI; the audit marks it
    # looked up at construction, so a test can route every mode to one backend
    route: Mapping[str, str] = field(default_factory=lambda: default_route())  # noqa: PLW0108


PROTECTED_ENVIRONMENTS = ("prod",)
# under an apply lease, how many changes go to a backend between two checks of the lease: a
# chunk must finish within the margin between the renew deadline and the lease duration
LEASE_CHUNK = 8


class EngineError(Exception):
    """The run cannot go on; nothing was changed. Carries a hint for the person."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint


class UnknownJob(EngineError):
    """A job asked for by name is not in the environment."""


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
    stamp: gitstamp.GitStamp = field(default_factory=lambda: gitstamp.GitStamp(None, frozenset()))
    recorded: list[inventory.Entry] = field(default_factory=list)  # the inventory before this run
    leases: list[base.Lease] = field(default_factory=list)  # apply leases held (beside flock)
    selection: frozenset[str] | None = None  # the jobs this run is about; None: every job

    @property
    def state_dir(self) -> Path:
        return state_dir(self.environment)

    @property
    def revision(self) -> str | None:
        """The git revision applied: the environment's stamp (even with no plan left), or the
        revision given plans were rendered from."""
        if self.options.plans is not None:
            for plan in self.plans.values():
                return plan["bookkeeping"].get("git_revision") or self.stamp.revision
        return self.stamp.revision

    @property
    def dirty(self) -> bool:
        """Applied from uncommitted files: any plan dirty, or (for the whole environment) any
        uncommitted change under its directory, such as a deleted job file."""
        plans_dirty = any(p["bookkeeping"].get("git_dirty") for p in self.plans.values())
        return plans_dirty or (self.selection is None and bool(self.stamp.dirty_paths))

    def lease_lost(self) -> str | None:
        """Why an apply lease held for this run may have passed to another holder, if it may."""
        return next(filter(None, (held.lost() for held in self.leases)), None)

    def paused(self) -> list[LiveResource]:
        """Salam's resources an operator paused (someone else's paused object is a conflict)."""
        return [r for r in self.live if r.paused and r.managed]


@dataclass(frozen=True)
class ApplyOutcome:
    """How an apply ended, what each change did, and what was restored."""

    status: ApplyStatus
    results: tuple[Result, ...]
    restored: tuple[Result, ...] = ()
    unverified: tuple[Change, ...] = ()
    apply_id: str = ""
    journal: Path | None = None  # where the before-images of what was not restored are kept


@contextlib.contextmanager
def prepare(options: ReconcileOptions, for_apply: bool = False) -> Iterator[Reconciliation]:
    """Load, render, read and diff; for an apply, under the environment's lock."""
    options.progress(f"loading environment {options.env}")
    environment, stamp = _load(options)
    selection = _selection(environment, options)
    plans: Mapping[str, dict[str, Any]] = (
        {job: dict(plan) for job, plan in options.plans.items()}
        if options.plans is not None
        else _selected_plans(environment, options, stamp, selection)
    )
    # the policy evaluation's threads render the plans as they read them (plans_of.Plans)
    options.progress(f"rendering {len(plans)} job(s) and checking the policies")
    warnings = [*environment.warnings, *policy.enforce(environment, plans, options.fail_on_warn)]
    needed = registry.needed(environment.settings, options.backends, leasing=for_apply)
    available = registry.load_all(needed)
    names, notes = _backend_names(environment, plans, options, available)
    plans = {job: plan for job, plan in plans.items() if options.route[plan["mode"]] in names}
    with contextlib.ExitStack() as stack:
        empty = ChangeSet(options.env, ())
        current = Reconciliation(
            options, environment, plans, {}, [], [], empty, notes, warnings, stamp
        )
        current.selection = selection
        if for_apply:
            stack.enter_context(lock.hold(current.state_dir / "apply.lock", options.lock_timeout))
            current.leases = _hold_leases(environment, options.lock_timeout, stack)
            notes += [left.note for left in journal.leftovers(current.state_dir / "journal")]
        placed = _place(current, names, stack)
        current.desired = [
            current.backends[options.route[p["mode"]]].render(p) for p in plans.values()
        ]
        options.progress(f"reading {', '.join(current.backends) or 'no backend'}")
        current.live = _read(current.backends, selection)
        notes += [note for backend in placed for note in backend.notes]
        options.progress("comparing")
        current.change_set = diff.compute(
            options.env, current.desired, current.live, options.prune, _adoptable(current)
        )
        yield current


def _adoptable(current: Reconciliation) -> set[ResourceKey]:
    """The desired keys whose unmanaged live object may be taken over: every one with
    ``--adopt``, else those whose job config says ``adopt: true``."""
    adopting = [current.options.adopt or bool(p.get("adopt")) for p in current.plans.values()]
    return {d.key for d, chosen in zip(current.desired, adopting, strict=True) if chosen}


def apply(current: Reconciliation) -> ApplyOutcome:
    """Apply the session's change set; restore from the journal if any change fails.

    Under an apply lease, the lease is checked before every write: once it may have passed to
    another holder, nothing more is written (no restore either); the new holder converges from
    what is live, and the journal keeps the before-images."""
    pending = current.change_set.pending()
    _guard(current, pending)
    record = journal.start(current.state_dir / "journal", pending, current.revision)
    guard = current.lease_lost if current.leases else None
    current.options.progress(f"applying {len(pending)} change(s)")
    moves = [c for c in pending if c.action is Action.MOVE]
    results = _apply_in_order(current.backends, [c for c in pending if c not in moves], guard)
    results += _move_all(current, moves, results, guard)
    restored: list[Result] = []
    unverified: tuple[Change, ...] = ()
    if guard is not None and guard():
        status = ApplyStatus.LEASE_LOST
    elif all(r.ok for r in results):
        current.options.progress("verifying")
        unverified = _verify(current, {key for c in pending for key in move.keys(c)})
        status = ApplyStatus.UNVERIFIED if unverified else ApplyStatus.APPLIED
    else:
        current.options.progress("restoring what the failed apply changed")
        restored = _restore(current, record, results)
        ok = all(r.ok for r in restored)
        status = ApplyStatus.ROLLED_BACK if ok else ApplyStatus.RESTORE_FAILED
    record.finish(status.value, [r.change.key for r in restored if not r.ok])
    entry = audit.Entry(
        record.apply_id,
        current.revision,
        current.dirty,
        current.options.revision if current.options.rollback else None,
        status.value,
        tuple(results),
        tuple(restored),
        current.options.action,
        current.options.via,
    )
    audit.record(current.state_dir, entry, current.plans)
    _record_inventory(current, [*results, *restored])
    if status is ApplyStatus.APPLIED:
        _record_release(current, record.apply_id)
    return ApplyOutcome(
        status, tuple(results), tuple(restored), unverified, record.apply_id, record.path
    )


def remember(current: Reconciliation) -> None:
    """Record the inventory (and the release) of an environment found in sync (an apply with
    nothing to do)."""
    _record_inventory(current, [])
    _record_release(current, None)


def _record_release(current: Reconciliation, apply_id: str | None) -> None:
    """After a verified apply or an in-sync run over the whole environment: what it runs."""
    if current.selection is not None or current.options.backends:
        return
    ran = release.of_run(
        current.options.env,
        (current.revision, current.dirty),
        apply_id,
        current.environment.settings,
        current.plans,
    )
    release.write(current.state_dir, ran)


def _record_inventory(current: Reconciliation, results: Sequence[Result]) -> None:
    """Keep the inventory: what this run read, then what it applied (and restored)."""

    def where(key: ResourceKey) -> dict[str, Any]:
        return current.backends[key.backend].location(key)

    seen = [
        (r, where(r.key)) for r in current.live if r.managed and r.key.backend in current.backends
    ]
    applied = [
        (r, where(r.change.key)) for r in results if r.change.key.backend in current.backends
    ]
    inventory.save(
        current.state_dir, current.options.env, inventory.updated(current.recorded, seen, applied)
    )


def _place(
    current: Reconciliation, names: Sequence[str], stack: contextlib.ExitStack[Any]
) -> list[placement.Placed]:
    """Open each backend at its configured location and the earlier ones the inventory records."""
    try:
        current.recorded = inventory.load(current.state_dir)
    except inventory.InventoryError as exc:  # rebuilt from what is live by the next apply
        current.notes.append(f"{exc}; only the configured locations are read")
    placed = []
    for name in names:
        earlier = inventory.elsewhere(current.recorded, current.environment.settings, [name])
        backend = placement.Placed(name, current.environment, [loc for _, loc in earlier])
        current.backends[name] = stack.enter_context(backend)
        placed.append(backend)
    return placed


def state_dir(environment: loader.Environment) -> Path:
    """Where the environment's journal, audit log, kept plans and lock live."""
    configured = Path(str(environment.settings.get("state_dir", ".salam/state")))
    base_dir = configured if configured.is_absolute() else environment.root / configured
    return base_dir / environment.name


def _load(options: ReconcileOptions) -> tuple[loader.Environment, gitstamp.GitStamp]:
    """The environment (as committed at ``--revision``, or the work tree) and its git stamp;
    invalid configs raise every problem at once, policy findings of the valid jobs included."""
    try:
        if options.revision:
            return revision.environment_at(
                options.root, options.env, options.revision, options.overrides
            )
        environment = loader.load_environment(options.root, options.env, options.overrides)
    except revision.RevisionError as exc:
        raise EngineError(
            str(exc), "use a commit, tag or branch that exists (git log --oneline)"
        ) from exc
    except loader.InvalidEnvironment as exc:
        raise validation.every_problem(exc) from exc
    return environment, gitstamp.stamp(environment.root, f"{loader.ENVIRONMENTS_DIR}/{options.env}")


def _selection(environment: loader.Environment, options: ReconcileOptions) -> frozenset[str] | None:
    """The jobs the run is about: ``--job``'s, narrowed to (or else) those ``--changed-since``
    touched; None for every job."""
    named = frozenset(options.jobs) or None
    if not options.changed_since:
        return named
    try:
        touched = changed.jobs(environment, options.changed_since)
    except (revision.RevisionError, changed.ChangedError) as exc:
        raise EngineError(
            str(exc), "use a commit, tag or branch that exists (e.g. origin/main)"
        ) from exc
    if touched is None:
        return named
    return touched if named is None else touched & named


def _selected_plans(
    environment: loader.Environment,
    options: ReconcileOptions,
    stamp: gitstamp.GitStamp,
    selection: frozenset[str] | None,
) -> plans_of.Plans:
    names = {job.name for job in environment.jobs}
    unknown = sorted(set(options.jobs) - names)
    if unknown:
        raise UnknownJob(
            f"no job {', '.join(unknown)} in environment '{environment.name}'",
            f"jobs: {', '.join(sorted(names)) or 'none'}",
        )
    return plans_of.render_lazily(environment, git=stamp, only=selection)


def _backend_names(
    environment: loader.Environment,
    plans: Mapping[str, Mapping[str, Any]],
    options: ReconcileOptions,
    available: Sequence[str],
) -> tuple[list[str], list[str]]:
    unknown = sorted(set(options.backends) - set(available))
    if unknown:
        known = sorted({*available, *registry.MODULES})
        raise EngineError(f"unknown backend {', '.join(unknown)}", f"available: {', '.join(known)}")
    wanted = {options.route[p["mode"]] for p in plans.values()}
    wanted |= base.configured(environment) & set(available)
    if options.backends:
        wanted &= set(options.backends)
    missing = sorted(wanted - set(available))
    notes = [f"backend '{n}' is not available in this build: its jobs are skipped" for n in missing]
    off = _disabled(environment, wanted, options)
    notes += [f"backend '{n}' is disabled ({why}): its jobs are skipped" for n, why in off.items()]
    return sorted(wanted & set(available) - set(off)), notes


def _disabled(
    environment: loader.Environment, wanted: set[str], options: ReconcileOptions
) -> dict[str, str]:
    """The wanted backends environment.yaml turns off; naming one with --backend is an error."""
    off = {n: why for n, why in sorted(base.disabled(environment).items()) if n in wanted}
    asked = [n for n in options.backends if n in off]
    if asked:
        raise EngineError(
            f"backend '{asked[0]}' is disabled in environment.yaml: {off[asked[0]]}",
            f"remove `{asked[0]}.disabled` there, or add --set {asked[0]}.disabled=null",
        )
    return off


def _read(
    backends: Mapping[str, base.Backend],
    selection: frozenset[str] | None,
    only: Collection[str] | None = None,
) -> list[LiveResource]:
    """Read every backend (or only those named in ``only``), narrowed to the selected jobs.

    The backends are read at once, each in a thread of its own (their reads wait on servers,
    files and subprocesses), so an environment across several schedulers costs its slowest read,
    not their sum. Each backend is read by one thread only. When reads fail, the first failing
    backend in the engine's order raises, as one read after another would."""
    chosen = [b for name, b in backends.items() if only is None or name in only]
    if len(chosen) > 1:
        with futures.ThreadPoolExecutor(len(chosen), thread_name_prefix="salam-read") as pool:
            reads = [pool.submit(backend.read) for backend in chosen]
        live = [resource for read in reads for resource in read.result()]
    else:
        live = [resource for backend in chosen for resource in backend.read()]
    if selection is not None:
        live = [r for r in live if r.job in selection]
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
            "rename the job, remove the object, or take it over in place: "
            "adopt: true in the job config (or --adopt)",
        )
    managed = [r for r in current.live if r.managed]
    desired_jobs = {d.job for d in current.desired}
    # a job that moved (another crontab target, folder or namespace) is deleted where it was
    # and created where it is: only deletes of jobs gone from the config count as emptying
    deletes = [c for c in pending if c.action is Action.DELETE and c.job not in desired_jobs]
    if managed and len(deletes) == len(managed) and not current.options.allow_empty:
        raise EngineError(
            f"refusing to delete all {len(managed)} managed resource(s) "
            f"of environment '{current.options.env}'",
            "an empty or broken checkout looks like this; pass --allow-empty if it is really meant",
        )


def _hold_leases(
    environment: loader.Environment, timeout: float, stack: contextlib.ExitStack[Any]
) -> list[base.Lease]:
    """Acquire the apply leases the environment configures (held until the stack closes)."""
    try:
        return [stack.enter_context(held) for held in base.leases(environment, timeout)]
    except base.LeaseUnavailable as exc:
        raise lock.LockTimeout(str(exc)) from None


def _apply_in_order(
    backends: Mapping[str, base.Backend],
    changes: Sequence[Change],
    lease_lost: Callable[[], str | None] | None = None,
) -> list[Result]:
    """One batch per backend (creates and updates first, deletes last); stop after a failure.

    Under an apply lease (``lease_lost``), batches go in chunks of :data:`LEASE_CHUNK`, each
    written only while the lease is surely held."""
    results: list[Result] = []
    for name in sorted({c.key.backend for c in changes}):
        batch = _batch(changes, name)
        size = LEASE_CHUNK if lease_lost else len(batch)
        for chunk in (batch[i : i + size] for i in range(0, len(batch), size)):
            lost = lease_lost() if lease_lost else None
            if lost:
                results += [Result.skipped(c, f"not applied: {lost}") for c in chunk]
            elif any(not r.ok for r in results):
                results += [Result.skipped(c, "an earlier change failed") for c in chunk]
            else:
                results += _apply_batch(backends[name], chunk)
    return results


def _move_all(
    current: Reconciliation,
    moves: Sequence[Change],
    results: Sequence[Result],
    lease_lost: Callable[[], str | None] | None,
) -> list[Result]:
    """Each move, one at a time, once every other change applied (:mod:`reconciler.move`)."""
    done: list[Result] = []
    for change in moves:
        lost = lease_lost() if lease_lost else None
        if lost:
            done.append(Result.skipped(change, f"not applied: {lost}"))
        elif any(not r.ok for r in [*results, *done]):
            done.append(Result.skipped(change, "an earlier change failed"))
        else:
            done.append(move.run(current.backends, change, current.options.moving))
    return done


def _batch(changes: Sequence[Change], backend: str) -> list[Change]:
    """``backend``'s changes in apply order: creates and updates first, deletes last."""
    mine = (c for c in changes if c.key.backend == backend)
    return sorted(mine, key=lambda c: (c.action.order, c.key))


def _apply_batch(backend: base.Backend, batch: list[Change]) -> list[Result]:
    try:
        return backend.apply(batch)
    except base.BackendError as exc:
        return [Result.failed(change, str(exc)) for change in batch]


def _restore(
    current: Reconciliation, record: journal.Journal, results: Sequence[Result]
) -> list[Result]:
    """Put back what the apply may have changed, backend by backend, with the same diff and
    apply code and the journal's before-images as the desired state.

    A change never attempted (skipped) needs nothing. A backend that cannot be re-read, or
    fails to restore, does not stop the others: what it could not restore becomes failed
    results naming the journal that keeps the before-images."""
    attempted = [r for r in results if r.status is not ResultStatus.SKIPPED]
    restored: list[Result] = []
    for name in sorted({r.change.key.backend for r in attempted}):
        mine = [r for r in attempted if r.change.key.backend == name]
        restored += _restore_backend(current, record, name, mine)
    return restored


def _restore_backend(
    current: Reconciliation, record: journal.Journal, name: str, attempted: Sequence[Result]
) -> list[Result]:
    changes = [r.change for r in attempted]
    keys = {c.key for c in changes}
    try:
        live = [r for r in _read(current.backends, current.selection, {name}) if r.key in keys]
    except base.BackendError as exc:
        return [_not_restored(c, str(exc), record.path) for c in changes]
    # what this apply adopted carries Salam's marker, whatever a lagging read says (Temporal's
    # search attributes land after the update returns): it is released, not left a conflict;
    # a refused adopt left it as it was, and the read says so
    adopted = {r.change.key for r in attempted if r.ok and r.change.action is Action.ADOPT}
    live = [dataclasses.replace(r, managed=True) if r.key in adopted else r for r in live]
    desired = [r.as_desired() for r in record.before_images() if r.key in keys]
    restore = diff.compute(current.options.env, desired, live, prune=True)
    results = _apply_batch(current.backends[name], _batch(restore.pending(), name))
    return [
        r if r.ok else Result.failed(r.change, _not_restored_reason(r.error, record.path))
        for r in results
    ]


def _not_restored(change: Change, reason: str, kept: Path) -> Result:
    """A failed result for a change that could not be undone: the undo it needed, and why."""
    before = change.before
    if before is None:
        undo = Change(change.key, Action.DELETE, None, None)
    else:
        action = Action.CREATE if change.action is Action.DELETE else Action.UPDATE
        undo = Change(change.key, action, None, before.as_desired())
    return Result.failed(undo, _not_restored_reason(reason, kept))


def _not_restored_reason(reason: str, kept: Path) -> str:
    return f"not restored ({reason}); before-image in {kept}"


def _verify(current: Reconciliation, applied: set[ResourceKey]) -> tuple[Change, ...]:
    """Re-read until the applied keys show no difference (backends may lag), a bounded time.

    Only the backends the apply touched are read again."""
    touched = {key.backend for key in applied}
    desired = [d for d in current.desired if d.key.backend in touched]
    remaining: tuple[Change, ...] = ()
    for attempt in range(current.options.verify_attempts):
        live = _read(current.backends, current.selection, touched)
        check = diff.compute(current.options.env, desired, live, current.options.prune)
        remaining = tuple(c for c in check.pending() if c.key in applied)
        if not remaining:
            return ()
        time.sleep(0.2 * (attempt + 1))
    return remaining
