"""Moving one job between schedulers (a ``move`` change) so that it neither runs twice nor skips
a run; called by the engine's apply for each move, after every other change applied.

The steps, each checked: create the new schedule paused (a backend that cannot hold one paused,
such as a crontab, creates it at the switch instead) and read it back; wait for the switch
moment — not within ``margin`` seconds of the old schedule's next fire time (a fire that close is
let happen on the old schedule first) and with no run of the old schedule in flight (its
``flock``, a running workflow, an active Job), at most ``wait`` seconds, reporting progress; then
remove the old schedule and resume the new one, back to back. The old schedule's last run and
the new one's first are two different fire times, and the job's watermark is untouched, so the
first run on the new scheduler continues where the old one stopped. A failure at any step puts
the old schedule back and removes the new one: a failed :class:`Result` saying which step failed
and whether the restore worked (the engine then restores its other changes as for any failure).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import cronsim

from reconciler.backends import base
from reconciler.model import Action, Change, DesiredResource, LiveResource, ResourceKey, Result


@dataclass(frozen=True)
class MoveOptions:
    """How long a move may wait for its moment, and how it tells time (tests pass a clock)."""

    margin: float = 10.0  # seconds the switch keeps away from the old schedule's next fire
    wait: float = 300.0  # seconds to wait for a moment with no fire near and no run in flight
    poll: float = 1.0
    settle: float = 2.0  # after a fire, seconds for its run to show as in flight
    clock: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep
    progress: Callable[[str], None] = field(default=lambda message: None)


class MoveFailed(Exception):
    """One step of a move failed; the message names it."""


@dataclass
class _Move:
    """One move in progress: what it has done so far, to undo it on failure."""

    change: Change
    old: base.Backend
    new: base.Backend
    options: MoveOptions
    created: LiveResource | None = None
    removed: bool = False

    @property
    def before(self) -> LiveResource:
        assert self.change.before is not None
        return self.change.before

    @property
    def after(self) -> DesiredResource:
        assert self.change.after is not None
        return self.change.after


def run(backends: Mapping[str, base.Backend], change: Change, options: MoveOptions) -> Result:
    """Carry out one move; a failure restores the old schedule (and removes the new one)."""
    assert change.before is not None and change.after is not None
    move = _Move(change, backends[change.before.key.backend], backends[change.key.backend], options)
    try:
        _steps(move)
    except MoveFailed as exc:
        return Result.failed(
            change, f"move {change.before.key} -> {change.key}: {exc}; {_undo(move)}"
        )
    return Result.applied(change)


def _steps(move: _Move) -> None:
    variants = move.new.paused(move.after) if isinstance(move.new, base.Movable) else None
    if variants is not None:
        move.created = _create(move, variants[0])
    _wait_for_moment(move)
    _write(move.old, Change(move.before.key, Action.DELETE, move.before, None), "remove the old")
    move.removed = True
    final = variants[1] if variants is not None else move.after
    if move.created is None:
        _create(move, final)
    else:
        _write(move.new, Change(final.key, Action.UPDATE, move.created, final), "resume the new")


def _create(move: _Move, resource: DesiredResource) -> LiveResource:
    _write(move.new, Change(resource.key, Action.CREATE, None, resource), "create the new")
    live = next((r for r in move.new.read() if r.key == resource.key and r.managed), None)
    if live is None:
        raise MoveFailed(f"create the new: {resource.key} does not read back")
    move.created = live
    return live


def _write(backend: base.Backend, change: Change, step: str) -> None:
    try:
        [result] = backend.apply([change])
    except base.BackendError as exc:
        raise MoveFailed(f"{step} schedule: {exc}") from exc
    if not result.ok:
        raise MoveFailed(f"{step} schedule: {result.error}")


def _wait_for_moment(move: _Move) -> None:
    """Wait (bounded) until the old schedule's next fire is ``margin`` away and no run of it
    is in flight."""
    options = move.options
    deadline = options.clock() + options.wait
    while True:
        now = options.clock()
        fire = next_fire(move.old, move.before, now)
        if fire is not None and fire - now < options.margin:
            options.progress(f"{move.before.key} fires in {fire - now:.0f}s: letting it fire first")
            _sleep_until(options, min(fire + options.settle, deadline), deadline)
        elif isinstance(move.old, base.Movable) and move.old.running(move.before):
            options.progress(f"{move.before.key} has a run in flight: waiting for it to end")
            _sleep_until(options, min(now + options.poll, deadline), deadline)
        else:
            return


def _sleep_until(options: MoveOptions, moment: float, deadline: float) -> None:
    if options.clock() >= deadline:
        raise MoveFailed(
            f"wait: no moment away from a fire time without a run in flight within "
            f"{options.wait:.0f}s"
        )
    options.sleep(max(moment - options.clock(), 0.0))


def next_fire(backend: base.Backend, live: LiveResource, now: float) -> float | None:
    """The schedule's next fire time after ``now`` (epoch seconds), when it has one."""
    fires = backend.fires(live) if isinstance(backend, base.Movable) else None
    if fires is None:
        return None
    cron, zone = fires
    start = datetime.fromtimestamp(now, ZoneInfo(zone)).replace(microsecond=0)
    return next(iter(cronsim.CronSim(cron, start))).astimezone(UTC).timestamp()


def _undo(move: _Move) -> str:
    """Put the old schedule back and remove the new one; say how that went."""
    problems = []
    if move.removed:
        problems += _try(
            move.old, Change(move.before.key, Action.CREATE, None, move.before.as_desired())
        )
    if move.created is not None:
        problems += _try(move.new, Change(move.created.key, Action.DELETE, move.created, None))
    if problems:
        return "the old schedule is NOT fully restored: " + "; ".join(problems)
    return "the old schedule is restored, the new one removed"


def _try(backend: base.Backend, change: Change) -> list[str]:
    try:
        _write(backend, change, change.action.verb)
    except MoveFailed as exc:
        return [str(exc)]
    return []


def keys(change: Change) -> set[ResourceKey]:
    """The keys a move touches: where the job was and where it goes."""
    return {change.key, *([change.before.key] if change.before else [])}
