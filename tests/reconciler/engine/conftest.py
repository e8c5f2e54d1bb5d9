"""Engine tests run against the in-memory backend: every mode is routed to it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ingestion.config.modes import Mode
from reconciler import engine
from reconciler.backends import base, memory
from reconciler.backends.memory import Store


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    """A fresh in-memory "live" system; every mode routes to it and no other backend is read."""
    shared = Store()
    monkeypatch.setattr(base, "_REGISTRY", {})
    monkeypatch.setattr(base, "_LEASES", {})  # no apply lease: nothing but memory is live
    memory.install(shared)
    monkeypatch.setattr(engine, "default_route", lambda: dict.fromkeys(map(str, Mode), "memory"))
    monkeypatch.setattr("reconciler.backends.registry.load_all", lambda *_: base.names())
    yield shared


def two_stores(
    monkeypatch: pytest.MonkeyPatch, names: tuple[str, str] = ("alpha", "omega")
) -> tuple[Store, Store]:
    """Two in-memory backends: the second takes ``temporal`` jobs, the first every other mode."""
    first, second = Store(), Store()
    monkeypatch.setattr(base, "_REGISTRY", {})
    memory.install(first, names[0])
    memory.install(second, names[1])
    route = {str(m): names[1] if m is Mode.TEMPORAL else names[0] for m in Mode}
    monkeypatch.setattr(engine, "default_route", lambda: route)
    monkeypatch.setattr("reconciler.backends.registry.load_all", lambda *_: base.names())
    return first, second


@pytest.fixture
def dev(project: Callable[..., Path]) -> Path:
    return project("dev")
