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
    monkeypatch.setattr("reconciler.backends.registry.load_all", base.names)
    yield shared


@pytest.fixture
def dev(project: Callable[..., Path]) -> Path:
    return project("dev")
