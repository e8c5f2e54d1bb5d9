"""An in-memory backend with failure injection, for engine, rollback and CLI tests.

Terraform's ``testprovider`` is the model: declarative state in a :class:`Store` shared by the
test and the backend, and failures injected by verb and name. It is never selected by config:
tests route modes to it explicitly, and may install it several times under different names.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ingestion.config.loader import Environment
from reconciler.backends import base
from reconciler.model import Action, Change, DesiredResource, LiveResource, ResourceKey, Result


@dataclass
class Store:
    """What is "live" in memory, the failures to inject, and a count of calls."""

    resources: dict[ResourceKey, LiveResource] = field(default_factory=dict)
    fail: set[tuple[str, str]] = field(default_factory=set)
    fail_reads: bool = False
    down_after_writes: int | None = None  # the "server" dies after this many writes
    reads: int = 0
    writes: int = 0
    running: set[ResourceKey] = field(default_factory=set)  # keys with a run in flight
    log: list[str] = field(default_factory=list)  # "<verb> <key>" of every write, in order

    @property
    def down(self) -> bool:
        """Unreachable: every later write fails and every read raises, like a killed server."""
        return self.down_after_writes is not None and self.writes >= self.down_after_writes


class MemoryBackend(base.Connected):
    name = "memory"

    def __init__(self, store: Store, environment: Environment, name: str = "memory") -> None:
        self.store = store
        self.environment = environment
        self.name = name

    def render(self, plan: Mapping[str, Any]) -> DesiredResource:
        key = ResourceKey(self.name, str(plan["environment"]), str(plan["schedule_id"]))
        spec = {"schedule": plan["schedule"], "command": plan["execution_command"]}
        meta = {
            "digest": plan["bookkeeping"]["digest"],
            "revision": str(plan["bookkeeping"].get("git_revision")),
        }
        return DesiredResource(key, str(plan["job"]), spec, meta)

    def read(self) -> list[LiveResource]:
        if self.store.fail_reads or self.store.down:
            raise base.BackendError(f"{self.name} backend: reads are failing (injected)")
        self.store.reads += 1
        return [
            r for k, r in sorted(self.store.resources.items()) if k.scope == self.environment.name
        ]

    def apply(self, changes: Sequence[Change]) -> list[Result]:
        results: list[Result] = []
        for change in changes:
            if any(not r.ok for r in results):
                results.append(Result.skipped(change, "an earlier change failed"))
                continue
            if (change.action.verb, change.key.name) in self.store.fail:
                results.append(Result.failed(change, f"injected failure on {change.action.verb}"))
                continue
            if self.store.down:
                results.append(Result.failed(change, f"{self.name} backend is down (injected)"))
                continue
            self.store.writes += 1
            self.store.log.append(f"{change.action.verb} {change.key}")
            if change.action is Action.DELETE:
                del self.store.resources[change.key]
            elif change.after is not None:
                after = change.after
                paused = bool(change.before and change.before.paused)
                self.store.resources[change.key] = LiveResource(
                    after.key, after.job, after.spec, after.meta, managed=after.owned, paused=paused
                )
            results.append(Result.applied(change))
        return results

    def location(self, key: ResourceKey) -> dict[str, Any]:
        return {}  # one store: everything lives in one place

    def paused(
        self, resource: DesiredResource, notes: tuple[str, str] | None = None
    ) -> tuple[DesiredResource, DesiredResource]:
        held = DesiredResource(resource.key, resource.job, {**resource.spec, "paused": True})
        return held, resource

    def configured_pause(self, resource: DesiredResource) -> bool | None:
        return resource.spec.get("paused")

    def running(self, live: LiveResource) -> bool:
        return live.key in self.store.running

    def fires(self, live: LiveResource) -> tuple[str, str] | None:
        schedule = live.spec.get("schedule") or {}
        return str(schedule["cron"]), str(schedule.get("timezone", "UTC"))


def install(store: Store, name: str = "memory") -> None:
    """Register a memory backend called ``name``, bound to ``store`` (several, each with its own
    store, make a multi-backend environment whose backends fail independently)."""
    base.register(name, section="environment")(
        lambda environment: MemoryBackend(store, environment, name)
    )
