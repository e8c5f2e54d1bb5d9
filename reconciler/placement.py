"""One backend at its configured location and at every location the inventory still records.

:class:`Placed` is what the engine holds per backend name. It renders through the backend made
from the environment's settings (desired resources always live where the config says), reads
that backend and one more instance per recorded location the config no longer names (made from
the settings with that location put back, :func:`reconciler.inventory.settings_at`), and sends
each change to the instance that read its key — so a job whose crontab target, folder or
namespace moved is created at the new place and deleted at the old one, in one apply, with the
same journal and restore. An old location that cannot be opened or read (the folder is gone,
the old crontab user deleted) is skipped with a note: nothing of Salam's can be left there to
prune, and its inventory entries stay until it can be read again.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Sequence
from types import TracebackType
from typing import Any, Self

from ingestion.config.loader import Environment
from reconciler import inventory
from reconciler.backends import base
from reconciler.model import Change, DesiredResource, LiveResource, ResourceKey, Result


class Placed:
    """A backend and its earlier locations, as one :class:`~reconciler.backends.base.Backend`."""

    def __init__(
        self, name: str, environment: Environment, earlier: Sequence[inventory.Location] = ()
    ) -> None:
        self.name = name
        self.environment = environment
        self.earlier = list(earlier)
        self.notes: list[str] = []
        self._stack = contextlib.ExitStack()
        self._here: base.Backend | None = None
        self._there: list[tuple[inventory.Location, base.Backend]] = []
        self._owner: dict[ResourceKey, base.Backend] = {}

    def __enter__(self) -> Self:
        with self._stack as stack:
            self._here = stack.enter_context(base.create(self.name, self.environment))
            for location in self.earlier:
                self._open_earlier(location)
            self._stack = stack.pop_all()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stack.close()

    @property
    def here(self) -> base.Backend:
        if self._here is None:
            raise base.BackendError(f"{self.name}: the backend is used outside its `with` block")
        return self._here

    def render(self, plan: Any) -> DesiredResource:
        return self.here.render(plan)

    def read(self) -> list[LiveResource]:
        found = {r.key: r for r in self.here.read()}
        self._owner = dict.fromkeys(found, self.here)
        for location, backend in self._there:
            for resource in self._read_earlier(location, backend):
                if resource.managed and resource.key not in found:
                    found[resource.key] = resource
                    self._owner[resource.key] = backend
        return [found[key] for key in sorted(found)]

    def apply(self, changes: Sequence[Change]) -> list[Result]:
        """Each instance applies its own changes, in the given order; results in that order."""
        groups: dict[int, list[Change]] = {}
        owners: dict[int, base.Backend] = {}
        for change in changes:
            owner = self._owner.get(change.key, self.here)
            groups.setdefault(id(owner), []).append(change)
            owners[id(owner)] = owner
        results: dict[ResourceKey, Result] = {}
        for ident, batch in groups.items():
            for result in owners[ident].apply(batch):
                results[result.change.key] = result
        return [results[change.key] for change in changes]

    def location(self, key: ResourceKey) -> dict[str, Any]:
        return self._owner.get(key, self.here).location(key)

    # a move (reconciler.move) asks the backend that holds the key; None / False where it
    # cannot tell (a backend that is not Movable)

    def paused(
        self, resource: DesiredResource, notes: tuple[str, str] | None = None
    ) -> tuple[DesiredResource, DesiredResource] | None:
        here = self.here
        return here.paused(resource, notes) if isinstance(here, base.Movable) else None

    def configured_pause(self, resource: DesiredResource) -> bool | None:
        here = self.here
        return here.configured_pause(resource) if isinstance(here, base.Movable) else None

    def running(self, live: LiveResource) -> bool:
        owner = self._owner.get(live.key, self.here)
        return owner.running(live) if isinstance(owner, base.Movable) else False

    def fires(self, live: LiveResource) -> tuple[str, str] | None:
        owner = self._owner.get(live.key, self.here)
        return owner.fires(live) if isinstance(owner, base.Movable) else None

    def _open_earlier(self, location: inventory.Location) -> None:
        settings = inventory.settings_at(self.environment.settings, location)
        moved = dataclasses.replace(self.environment, settings=settings)
        try:
            backend = self._stack.enter_context(base.create(self.name, moved))
        except base.BackendError as exc:
            self.notes.append(self._skipped(location, exc))
            return
        self._there.append((location, backend))

    def _read_earlier(
        self, location: inventory.Location, backend: base.Backend
    ) -> list[LiveResource]:
        try:
            return backend.read()
        except base.BackendError as exc:
            self.notes.append(self._skipped(location, exc))
            return []

    def _skipped(self, location: inventory.Location, error: Exception) -> str:
        where = ", ".join(f"{key}={value}" for key, value in sorted(location.items()))
        return (
            f"{self.name}: cannot read the earlier location {where} ({error}); "
            "what Salam left there is not pruned this time"
        )
