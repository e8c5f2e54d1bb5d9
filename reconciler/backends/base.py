"""The backend Protocol and registry the engine talks to (it never knows which backend it has).

A backend turns a plan into its canonical desired resource, reads the live resources it owns in
the same canonical shape, and applies a batch of changes. A failed resource is a failed
:class:`Result`; an unusable backend (unreachable, forbidden, bad target) raises
:class:`BackendError`. Backends are context managers (:class:`Connected`) so connections open
once per run. A backend may also offer an *apply lease* (:func:`register_lease`): a lock that
several machines share, held by every apply of an environment that configures it, beside the
host's ``flock``. A backend that ``reconcile import`` can read is also :class:`Importable`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Protocol, Self, runtime_checkable

from ingestion.config.loader import Environment
from reconciler.model import Change, DesiredResource, LiveResource, ResourceKey, Result


def plan_meta(plan: Mapping[str, Any]) -> dict[str, str]:
    """The marker's ``digest`` (12 hex) and ``revision`` (12 hex, ``+dirty``, or ``-``)."""
    bookkeeping = plan.get("bookkeeping") or {}
    digest = str(bookkeeping.get("digest") or "-").removeprefix("sha256:")[:12]
    revision = str(bookkeeping.get("git_revision") or "-")[:12]
    if bookkeeping.get("git_dirty") and revision != "-":
        revision += "+dirty"
    return {"digest": digest, "revision": revision}


@dataclass(frozen=True)
class Unmanaged:
    """A live schedule that carries no Salam marker, as ``reconcile import`` reads it: where it
    is, what it runs (a shell ``command_line``, or an ``argv``) and the job config's
    ``runtime.orchestration`` that renders the same schedule; ``problem`` says why the schedule
    itself cannot be written as one (then ``orchestration`` is empty); ``key_of`` (see below)."""

    key: ResourceKey
    orchestration: Mapping[str, Any] = field(default_factory=dict)
    argv: tuple[str, ...] = ()
    command_line: str = ""
    problem: str = ""
    # where the backend puts a job's schedule when that depends on the job's name (a CronJob's
    # name): the import refuses a job whose schedule would not be this one
    key_of: Callable[[str], ResourceKey] | None = None


@runtime_checkable
class Importable(Protocol):
    """A backend ``reconcile import`` can read: it lists every unmarked schedule at its
    configured location."""

    def unmanaged(self) -> list[Unmanaged]: ...


@runtime_checkable
class Movable(Protocol):
    """A backend a job can move from or to (:mod:`reconciler.move`)."""

    def paused(
        self, resource: DesiredResource, notes: tuple[str, str] | None = None
    ) -> tuple[DesiredResource, DesiredResource] | None:
        """``resource`` held paused and the same resumed (as its config says); None when the
        backend cannot hold a schedule paused (then a move creates it at the switch). ``notes``
        say who paused and who resumed it, where the backend records that (default: a move)."""
        ...

    def configured_pause(self, resource: DesiredResource) -> bool | None:
        """Whether ``resource``'s config pauses it: None when the config does not say (an
        operator's pause is kept)."""
        ...

    def running(self, live: LiveResource) -> bool:
        """Whether a run the schedule started is still going."""
        ...

    def fires(self, live: LiveResource) -> tuple[str, str] | None:
        """The schedule's 5-field cron and the zone it fires in, when it has one."""
        ...


def can_pause(backend: object, resource: DesiredResource) -> bool:
    """Whether ``backend`` can hold ``resource`` paused (Temporal, Kubernetes; not a crontab line,
    a DAG file or a hand-off file)."""
    return isinstance(backend, Movable) and backend.paused(resource) is not None


class BackendError(Exception):
    """A backend cannot be used at all; the message says which system, which action and a hint."""


class Backend(Protocol):
    name: str

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None: ...

    def render(self, plan: Mapping[str, Any]) -> DesiredResource:
        """The canonical desired resource of one plan of this backend's mode."""
        ...

    def read(self) -> list[LiveResource]:
        """Every live resource carrying this environment's marker (plus unmanaged ones that
        collide with a desired key, as ``managed=False``)."""
        ...

    def apply(self, changes: Sequence[Change]) -> list[Result]:
        """Apply ``changes`` (already ordered); one :class:`Result` per change."""
        ...

    def location(self, key: ResourceKey) -> dict[str, Any]:
        """Where ``key`` lives, as environment.yaml settings by dotted name (``crontab.target``,
        ``temporal.namespace``…): a backend made from settings carrying these values reads it.
        The inventory records it, so an object whose location left the config is still found."""
        ...


class Connected:
    """The context-manager half of a backend: :meth:`open` on entry (``close`` too when opening
    fails), :meth:`close` on exit. Both do nothing unless a backend holds a connection."""

    def open(self) -> None:
        """Connect, or check the target is usable; raise :class:`BackendError` when it is not."""

    def close(self) -> None:
        """Release what :meth:`open` took; safe to call twice."""

    def __enter__(self) -> Self:
        try:
            self.open()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


Factory = Callable[[Environment], Backend]
_REGISTRY: dict[str, tuple[Factory, str]] = {}  # name -> (factory, environment.yaml section)


def register(name: str, section: str | None = None) -> Callable[[Factory], Factory]:
    """Class decorator / function decorator adding a backend factory to the registry.

    ``section`` is the environment.yaml key whose presence means the environment uses the
    backend (read even when no job routes to it, so its orphans are pruned); default: ``name``.
    """

    def add(factory: Factory) -> Factory:
        _REGISTRY[name] = (factory, section or name)
        return factory

    return add


def configured(environment: Environment) -> set[str]:
    """The registered backends the environment's settings configure."""
    return {name for name, (_, key) in _REGISTRY.items() if key in environment.settings}


def disabled(environment: Environment) -> dict[str, str]:
    """The registered backends the environment turns off (``<section>.disabled``), each with
    the reason it gives."""
    found = {}
    for name, (_, key) in _REGISTRY.items():
        section = environment.settings.get(key)
        if isinstance(section, Mapping) and section.get("disabled"):
            found[name] = str(section["disabled"])
    return found


def create(name: str, environment: Environment) -> Backend:
    if name not in _REGISTRY:
        raise BackendError(f"unknown backend '{name}' (known: {', '.join(sorted(_REGISTRY))})")
    factory, _ = _REGISTRY[name]
    return factory(environment)


def names() -> list[str]:
    return sorted(_REGISTRY)


class Lease(AbstractContextManager["Lease"], Protocol):
    """A lock shared by every machine applying one environment (a Kubernetes Lease, say).

    Entering acquires it (waiting at most the timeout it was made with, then raising
    :class:`LeaseUnavailable`) and keeps renewing it; leaving releases it. :meth:`lost` says,
    before each write, whether it may have passed to another holder."""

    def lost(self) -> str | None:
        """None while the lease is surely ours; otherwise why it may not be."""
        ...


class LeaseUnavailable(Exception):
    """Another holder kept the lease for longer than we were willing to wait."""


LeaseFactory = Callable[[Environment, float], Lease]
_LEASES: dict[str, LeaseFactory] = {}  # environment.yaml section -> factory


def register_lease(section: str) -> Callable[[LeaseFactory], LeaseFactory]:
    """Offer an apply lease for environments whose ``<section>.lease`` is set."""

    def add(factory: LeaseFactory) -> LeaseFactory:
        _LEASES[section] = factory
        return factory

    return add


def leases(environment: Environment, timeout: float) -> list[Lease]:
    """The apply leases the environment configures (``<section>.lease``; a disabled section
    configures none), each waiting at most ``timeout`` seconds when entered."""
    found = []
    for section, factory in sorted(_LEASES.items()):
        settings = environment.settings.get(section)
        if isinstance(settings, Mapping) and settings.get("lease") and not settings.get("disabled"):
            found.append(factory(environment, timeout))
    return found
