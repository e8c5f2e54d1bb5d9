"""Pausing and resuming one job's schedules by hand: ``reconcile pause`` / ``resume`` and the
web UI's actions (:mod:`reconciler.web.actions`) call :func:`run`.

Through the engine like any apply: :func:`reconciler.engine.prepare` for the one job (the
environment's lock, config validation and policies, a live read), then one ``update`` per live
schedule of the job, from live to the config's resource held paused (a pause) or as the config
says (a resume) — the backend's own variants (:meth:`~reconciler.backends.base.Movable.paused`,
as a move uses them) — handed to :func:`reconciler.engine.apply` in place of the change set
(journal, verify, audit; the audit record names the action, and ``via: ui`` for the web UI).
The pause carries a note saying who paused it and how, which is not the config's: it is an
operator's pause, reported as ``paused`` drift and kept by later applies and self-heal.
A resume goes back to what the config says: a config that pauses the job keeps it paused.

Fails with :class:`Refused` (a message, a hint, an exit code) when the job cannot be paused
there: on a backend that cannot hold a schedule paused (crontab, Airflow, export), nothing live
yet, or a config that says explicitly it is not paused (the next apply would resume it).
Nothing to do (already paused, not paused) is an :class:`Outcome` with a note and no apply.
"""

from __future__ import annotations

import dataclasses
import enum
import getpass
from collections.abc import Callable
from dataclasses import dataclass, field

from ingestion.exitcodes import ExitCode
from reconciler import diff, engine
from reconciler.backends import base
from reconciler.model import Change, ChangeSet, DesiredResource, LiveResource


class Verb(enum.Enum):
    PAUSE = "pause"
    RESUME = "resume"

    @property
    def done(self) -> str:
        return f"{self.value}d"


@dataclass(frozen=True)
class Request:
    """Who asks to pause or resume which job, how (``cli`` / ``ui``) and why."""

    verb: Verb
    job: str
    note: str = ""
    via: str = "cli"
    user: str = field(default_factory=getpass.getuser)

    def said(self) -> str:
        """The note the schedule carries: ``paused with `reconcile pause` by alice: why``, or
        ``paused from the web UI`` (whoever held the token: the server cannot tell who)."""
        how = f"with `reconcile {self.verb.value}` by {self.user}"
        said = f"{self.verb.done} {'from the web UI' if self.via == 'ui' else how}"
        return said + (f": {self.note}" if self.note else "")


@dataclass(frozen=True)
class Outcome:
    """What a pause or resume did: the changes applied (none when there was nothing to do)."""

    request: Request
    changes: tuple[Change, ...]
    applied: engine.ApplyOutcome | None  # None: nothing to do
    note: str = ""  # why nothing was done


class Refused(engine.EngineError):
    """The job cannot be paused or resumed there; nothing was changed."""

    def __init__(self, message: str, hint: str, code: ExitCode = ExitCode.ERROR) -> None:
        super().__init__(message, hint)
        self.code = code


Confirm = Callable[[engine.Reconciliation], None]  # may raise to stop before applying


def run(
    options: engine.ReconcileOptions, request: Request, confirm: Confirm = lambda _: None
) -> Outcome:
    """Pause or resume ``request.job`` in ``options.env``; ``confirm`` sees the change set
    (under the lock) before it is applied."""
    options = dataclasses.replace(
        options, jobs=(request.job,), action=request.verb.value, via=request.via
    )
    try:
        with engine.prepare(options, for_apply=True) as current:
            changes, note = _changes(current, request)
            if not changes:
                return Outcome(request, (), None, note)
            current.change_set = ChangeSet(options.env, changes)
            confirm(current)
            return Outcome(request, changes, engine.apply(current))
    except engine.UnknownJob as exc:
        raise Refused(str(exc), exc.hint, ExitCode.USAGE) from exc


def _changes(current: engine.Reconciliation, request: Request) -> tuple[tuple[Change, ...], str]:
    """One update per live schedule of the job, or none and why."""
    pairs = [_live_pair(current, resource, request) for resource in _desired(current, request)]
    configured = {backend.configured_pause(d) for d, _, backend in pairs}
    pause = request.verb is Verb.PAUSE
    if True in configured:
        return (), _stays_paused(request)
    if pause and False in configured:
        raise Refused(
            f"job {request.job}'s config says explicitly that it is not paused: the next "
            "apply would resume it",
            "remove schedule.paused: false (kubernetes.suspend: false) from the job config, "
            "or set it to true to pause the job for good",
        )
    todo = [(d, live, b) for d, live, b in pairs if live.paused != pause]
    if not todo:
        return (), f"{request.job} is {'already' if pause else 'not'} paused: nothing to do"
    notes = (request.said(), request.said())
    return tuple(_change(current, live, b.paused(d, notes), pause) for d, live, b in todo), ""


def _desired(current: engine.Reconciliation, request: Request) -> list[DesiredResource]:
    desired = [d for d in current.desired if d.job == request.job]
    if not desired:
        raise Refused(
            f"job {request.job} is on no backend reconciled here (disabled, or left out by "
            "--backend)",
            "check the backend's settings in environment.yaml",
        )
    return desired


def _live_pair(
    current: engine.Reconciliation, resource: DesiredResource, request: Request
) -> tuple[DesiredResource, LiveResource, base.Movable]:
    backend = current.backends[resource.key.backend]
    if not isinstance(backend, base.Movable) or not base.can_pause(backend, resource):
        raise Refused(
            f"job {request.job} runs on {resource.key.backend}, which cannot hold a schedule "
            f"paused: it cannot be {request.verb.done}",
            "to stop it, remove the job from the config and apply; a job on Temporal can be "
            "kept paused with schedule.paused: true in its config",
        )
    live = next((r for r in current.live if r.key == resource.key and r.managed), None)
    if live is None:
        raise Refused(
            f"nothing live to {request.verb.value}: {resource.key} is not applied yet",
            f"apply it first: reconcile --env {current.options.env} --job {request.job}",
        )
    return resource, live, backend


def _change(
    current: engine.Reconciliation,
    live: LiveResource,
    variants: tuple[DesiredResource, DesiredResource] | None,
    pause: bool,
) -> Change:
    """The update from ``live`` to the job's resource held paused, or resumed."""
    assert variants is not None  # _live_pair refused a backend without them
    after = variants[0] if pause else variants[1]
    [change] = diff.compute(current.options.env, [after], [live]).pending()
    return change


def _stays_paused(request: Request) -> str:
    if request.verb is Verb.PAUSE:
        return f"{request.job} is already paused: its config pauses it (schedule.paused: true)"
    return (
        f"{request.job} stays paused: resuming goes back to what the config says, and its "
        "config pauses it (schedule.paused: true); set it to false in the config to resume"
    )
