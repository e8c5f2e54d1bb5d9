"""The ``temporal`` backend: one Temporal schedule per job in ``temporal`` mode.

Read: every expected id is ``describe``d (bounded concurrency) for the truth while ``list`` is still
paging; ``list`` adds the other ids carrying this environment's marker (it lags writes), described
as they appear. Apply: create, and on ``ScheduleAlreadyRunningError`` describe and update; updates
go through a pure updater that refuses schedules Salam does not own; delete checks ownership first;
an ``adopt`` change adds Salam's marker to an unmarked schedule in place
(:mod:`~reconciler.backends.temporal.adopt`). A schedule without Salam's marker for this environment
is otherwise never changed: if its id collides with a desired one it is returned with
``managed=False`` and the engine reports the conflict (or adopts it, when the job may).
"""

from __future__ import annotations

import asyncio
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Collection,
    Iterable,
    Mapping,
    Sequence,
)
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeVar

from temporalio.client import (
    Client,
    ScheduleAlreadyRunningError,
    ScheduleDescription,
    ScheduleUpdate,
    ScheduleUpdateInput,
)
from temporalio.service import RPCError, RPCStatusCode

from ingestion.config.loader import Environment, schedule_id
from ingestion.config.modes import Mode
from reconciler.backends.base import BackendError, Connected, Unmanaged, register
from reconciler.backends.temporal import adopt, connection, cron, imported, marker, spec
from reconciler.backends.temporal.marker import NotOwned
from reconciler.model import Action, Change, DesiredResource, LiveResource, ResourceKey, Result

T = TypeVar("T")
R = TypeVar("R")
UNREACHABLE = (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.CANCELLED)


@dataclass(frozen=True)
class TemporalOptions:
    """How the backend talks to Temporal."""

    concurrency: int = 32
    rpc_timeout: timedelta = timedelta(seconds=10)


@dataclass
class _Run:
    """What one run has learnt: desired ids per namespace, their jobs, a server gone away."""

    wanted: dict[str, set[str]] = field(default_factory=dict)
    jobs: dict[ResourceKey, str] = field(default_factory=dict)
    attributes: dict[str, bool] = field(default_factory=dict)
    broken: str = ""


@register("temporal")
class TemporalBackend(Connected):
    name = "temporal"

    def __init__(self, environment: Environment, options: TemporalOptions | None = None) -> None:
        self.environment = environment
        self.settings: Mapping[str, Any] = environment.settings.get("temporal", {})
        self.options = options or TemporalOptions()
        self.namespace = str(self.settings.get("namespace", "default"))
        self._session: connection.Session | None = None
        self._run = _Run()
        self._expect_environment_jobs()

    def open(self) -> None:
        self._session = connection.Session(self.settings)
        self._session.run(self._prepare(self.namespace))

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None

    # -- render -------------------------------------------------------------------------------

    def render(self, plan: Mapping[str, Any]) -> DesiredResource:
        namespace = str(plan["temporal"]["namespace"])
        key = ResourceKey("temporal", namespace, str(plan["schedule_id"]))
        try:
            desired = spec.desired(plan)
        except cron.CronError as exc:
            raise BackendError(f"temporal: job '{plan['job']}': {exc}") from exc
        self._run.wanted.setdefault(namespace, set()).add(key.name)
        self._run.jobs[key] = str(plan["job"])
        bookkeeping = plan.get("bookkeeping", {})
        meta = {
            "digest": str(bookkeeping.get("digest", "")),
            "revision": str(bookkeeping.get("git_revision") or ""),
        }
        return DesiredResource(key, str(plan["job"]), desired, meta)

    # -- read ---------------------------------------------------------------------------------

    def location(self, key: ResourceKey) -> dict[str, Any]:
        return {"temporal.namespace": key.scope}

    def read(self) -> list[LiveResource]:
        return self._session_or_fail().run(self._read())

    async def _read(self) -> list[LiveResource]:
        found: list[LiveResource] = []
        for namespace in sorted({self.namespace, *self._run.wanted}):
            found.extend(await self._read_namespace(namespace))
        return sorted(found, key=lambda r: r.key)

    async def _read_namespace(self, namespace: str) -> list[LiveResource]:
        client = await self._prepare(namespace)
        wanted = self._run.wanted.get(namespace, set())
        try:
            found = await self._read_all(client, wanted)
        except RPCError as exc:
            raise BackendError(
                f"temporal: cannot read schedules in namespace '{namespace}' at "
                f"{self._address}: {exc.message}"
            ) from exc
        return [r for r in found if r is not None and (r.managed or r.key.name in wanted)]

    async def _read_all(self, client: Client, wanted: set[str]) -> list[LiveResource | None]:
        """Every wanted id and every id ``list`` marks as ours, each described once.

        The wanted ids are described while ``list`` is still paging, so its latency is hidden;
        the ids only ``list`` knows (ours, no longer wanted) join as they appear.
        """
        gate = asyncio.Semaphore(self.options.concurrency)
        reads = {i: asyncio.ensure_future(self._read_one(client, gate, i)) for i in sorted(wanted)}
        try:
            async for schedule in self._listed(client, reads.keys()):
                reads[schedule] = asyncio.ensure_future(self._read_one(client, gate, schedule))
            return list(await asyncio.gather(*reads.values()))
        finally:
            _abandon(reads.values())

    async def _listed(self, client: Client, known: Collection[str]) -> AsyncIterator[str]:
        """Ids ``list`` shows with this environment's marker, beyond ``known`` (``list`` lags).

        Only the memos of ids not already ``known`` are decoded: those are described anyway.
        """
        async for entry in await client.list_schedules(rpc_timeout=self.options.rpc_timeout):
            found = entry.typed_search_attributes
            if entry.id not in known and marker.owned(
                await entry.memo(), self.environment.name, found
            ):
                yield entry.id

    async def _read_one(
        self, client: Client, gate: asyncio.Semaphore, schedule: str
    ) -> LiveResource | None:
        """One schedule described (at most ``gate`` at a time) and made canonical; None if gone."""
        async with gate:
            description = await self._describe(client, schedule)
        return None if description is None else await self._live(client, description)

    async def _describe(self, client: Client, schedule: str) -> ScheduleDescription | None:
        try:
            return await client.get_schedule_handle(schedule).describe(
                rpc_timeout=self.options.rpc_timeout
            )
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                return None
            raise

    async def _live(self, client: Client, description: ScheduleDescription) -> LiveResource:
        memo, found = await description.memo(), description.typed_search_attributes
        key = ResourceKey("temporal", client.namespace, description.id)
        job = marker.job_of(memo, found) or self._run.jobs.get(key, "")
        return LiveResource(
            key,
            job,
            spec.live(description, client.data_converter),
            marker.meta_of(description.typed_search_attributes),
            managed=marker.owned(memo, self.environment.name, found),
            paused=spec.operator_paused(description),
            observed=spec.observed(description),
        )

    def unmanaged(self) -> list[Unmanaged]:
        """Every schedule of the configured namespace without a Salam marker (``reconcile
        import``), described for its whole spec."""
        return self._session_or_fail().run(self._unmanaged(self.namespace))

    async def _unmanaged(self, namespace: str) -> list[Unmanaged]:
        client = await self._prepare(namespace)
        found = []
        async for entry in await client.list_schedules(rpc_timeout=self.options.rpc_timeout):
            if marker.marked(await entry.memo(), entry.typed_search_attributes):
                continue
            description = await self._describe(client, entry.id)
            if description is not None:
                key = ResourceKey("temporal", namespace, entry.id)
                found.append(imported.unmanaged(key, spec.live(description, client.data_converter)))
        return sorted(found, key=lambda u: u.key)

    # -- a move (reconciler.move) -------------------------------------------------------------

    def paused(
        self, resource: DesiredResource, notes: tuple[str, str] | None = None
    ) -> tuple[DesiredResource, DesiredResource]:
        """``resource`` paused, and resumed (unpaused unless the config pauses it); each carries
        its own note: ``notes``, or a move's (:data:`spec.MOVE_NOTE`, :data:`spec.RESUMED_NOTE`).
        A note that is not the config's makes the pause an operator's (kept, reported)."""
        held, resumed = notes or (spec.MOVE_NOTE, spec.RESUMED_NOTE)
        stays_paused = self.configured_pause(resource) is True
        return _with_pause(resource, True, held), _with_pause(
            resource, stays_paused, None if stays_paused else resumed
        )

    def configured_pause(self, resource: DesiredResource) -> bool | None:
        paused = resource.spec["state"].get("paused")
        return None if paused is None else bool(paused)

    def running(self, live: LiveResource) -> bool:
        return self._session_or_fail().run(self._running(live.key))

    async def _running(self, key: ResourceKey) -> bool:
        description = await self._describe(await self._prepare(key.scope), key.name)
        return bool(description and description.info.running_actions)

    def fires(self, live: LiveResource) -> tuple[str, str] | None:
        calendar = live.spec.get("calendar") or {}
        cron = str(calendar.get("cron") or "")
        return (cron, str(calendar.get("timezone") or "UTC")) if len(cron.split()) == 5 else None

    # -- apply --------------------------------------------------------------------------------

    def apply(self, changes: Sequence[Change]) -> list[Result]:
        return self._session_or_fail().run(self._apply(changes))

    async def _apply(self, changes: Sequence[Change]) -> list[Result]:
        first = [c for c in changes if c.action is not Action.DELETE]
        last = [c for c in changes if c.action is Action.DELETE]
        results = await self._bounded(self._apply_one, first)
        results += await self._bounded(self._apply_one, last)
        by_change = {id(r.change): r for r in results}
        return [by_change[id(c)] for c in changes]

    async def _apply_one(self, change: Change) -> Result:
        if self._run.broken:
            return Result.skipped(change, str(self._run.broken))
        try:
            if change.action is Action.CREATE and change.after is not None:
                await self._create(change.after)
            elif change.action is Action.UPDATE and change.after and not change.after.owned:
                await self._release(change.after)
            elif change.action is Action.UPDATE and change.after is not None:
                await self._update(change.after)
            elif change.action is Action.ADOPT and change.after is not None:
                await self._adopt(change.after)
            elif change.action is Action.DELETE and change.before is not None:
                await self._delete(change.before.key)
        except Exception as exc:  # a failed resource is a result
            return Result.failed(change, self._failure(exc))
        return Result.applied(change)

    async def _create(self, resource: DesiredResource) -> None:
        client = await self._prepare(resource.key.scope)
        try:
            await client.create_schedule(
                resource.key.name,
                spec.to_schedule(resource.spec),
                memo=marker.memo(self.environment.name, resource.job),
                search_attributes=self._attributes(resource.key.scope, resource.meta),
                rpc_timeout=self.options.rpc_timeout,
            )
        except ScheduleAlreadyRunningError:
            await self._update(resource)

    async def _update(self, resource: DesiredResource) -> None:
        client = await self._prepare(resource.key.scope)
        handle = client.get_schedule_handle(resource.key.name)
        await handle.update(
            Updater(
                resource, self.environment.name, self._run.attributes.get(resource.key.scope, False)
            ),
            rpc_timeout=self.options.rpc_timeout,
        )

    async def _adopt(self, resource: DesiredResource) -> None:
        client = await self._prepare(resource.key.scope)
        await adopt.adopt(
            client,
            resource,
            self.environment.name,
            self._run.attributes.get(resource.key.scope, False),
            self.options.rpc_timeout,
        )

    async def _release(self, resource: DesiredResource) -> None:
        client = await self._prepare(resource.key.scope)
        await adopt.release(client, resource, self.options.rpc_timeout)

    async def _delete(self, key: ResourceKey) -> None:
        client = await self._prepare(key.scope)
        handle = client.get_schedule_handle(key.name)
        description = await self._describe(client, key.name)
        if description is None:
            return
        found = description.typed_search_attributes
        if not marker.owned(await description.memo(), self.environment.name, found):
            raise NotOwned(
                f"schedule '{key.name}' is not Salam's for environment '{self.environment.name}'"
            )
        try:
            await handle.delete(rpc_timeout=self.options.rpc_timeout)
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND:
                raise

    # -- helpers ------------------------------------------------------------------------------

    async def _prepare(self, namespace: str) -> Client:
        """The namespace's client, with Salam's search attributes registered (once per run)."""
        client = await self._session_or_fail().client(namespace)
        if namespace not in self._run.attributes:
            try:
                self._run.attributes[namespace] = await marker.ensure_attributes(client, namespace)
            except RPCError as exc:
                raise BackendError(self._namespace_problem(namespace, exc)) from exc
        return client

    def _attributes(self, namespace: str, meta: Mapping[str, str]) -> Any:
        return marker.attributes(meta) if self._run.attributes.get(namespace) else None

    async def _bounded(self, work: Callable[[T], Awaitable[R]], items: Iterable[T]) -> list[R]:
        """``work`` over ``items``, at most ``options.concurrency`` at a time, in order."""
        gate = asyncio.Semaphore(self.options.concurrency)

        async def one(item: T) -> R:
            async with gate:
                return await work(item)

        return list(await asyncio.gather(*(one(item) for item in items)))

    def _failure(self, exc: Exception) -> str:
        if isinstance(exc, RPCError) and exc.status in UNREACHABLE:
            self._run.broken = f"Temporal at {self._address} became unavailable"
            return f"{self._run.broken} ({exc.message})"
        return exc.message if isinstance(exc, RPCError) else str(exc) or type(exc).__name__

    def _namespace_problem(self, namespace: str, exc: RPCError) -> str:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return (
                f"temporal: namespace '{namespace}' does not exist at {self._address}; "
                "create it with "
                f"`temporal operator namespace create --address {self._address} -n {namespace}`"
            )
        return f"temporal: cannot use namespace '{namespace}' at {self._address}: {exc.message}"

    def _session_or_fail(self) -> connection.Session:
        if self._session is None:
            raise BackendError("temporal: the backend is used outside its `with` block")
        return self._session

    @property
    def _address(self) -> str:
        return str(self.settings.get("address", "127.0.0.1:7233"))

    def _expect_environment_jobs(self) -> None:
        """Ids the environment's jobs will use: described even before ``list`` shows them."""
        for job in self.environment.jobs:
            if job.mode is Mode.TEMPORAL:
                namespace = str(job.block.get("namespace", self.namespace))
                self._run.wanted.setdefault(namespace, set()).add(schedule_id(job))


def _with_pause(resource: DesiredResource, paused: bool, note: str | None) -> DesiredResource:
    state = {**resource.spec["state"], "paused": paused} | ({"note": note} if note else {})
    return DesiredResource(
        resource.key, resource.job, {**resource.spec, "state": state}, resource.meta
    )


def _abandon(tasks: Iterable[asyncio.Future[Any]]) -> None:
    """Cancel what still runs after a failure elsewhere, and mark finished failures as seen."""
    for task in tasks:
        if not task.done():
            task.cancel()
        elif not task.cancelled():
            task.exception()


@dataclass(frozen=True)
class Updater:
    """The pure updater: the desired schedule, refused for a schedule Salam does not own.

    Temporal may call it more than once (on conflicts); it reads only its input and its own
    frozen fields, and changes nothing.
    """

    resource: DesiredResource
    environment: str
    with_attributes: bool

    async def __call__(self, update: ScheduleUpdateInput) -> ScheduleUpdate:
        current = update.description
        if not marker.owned(
            await current.memo(), self.environment, current.typed_search_attributes
        ):
            raise NotOwned(
                f"schedule '{current.id}' is not Salam's for environment '{self.environment}'"
            )
        schedule = spec.to_schedule(self.resource.spec, keep=current.schedule.state)
        attributes = marker.attributes(self.resource.meta, current.typed_search_attributes)
        return ScheduleUpdate(
            schedule=schedule, search_attributes=attributes if self.with_attributes else None
        )
