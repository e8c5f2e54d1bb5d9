"""The backends of an environment are read at once, not one after another: each read here waits
for the other to have started (a barrier), which one read after another can never satisfy. A
failing read still fails the whole comparison, naming its backend."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from reconciler import engine
from reconciler.backends import base
from reconciler.backends.memory import MemoryBackend, Store
from reconciler.model import LiveResource
from tests.reconciler.engine.conftest import two_stores


@pytest.fixture
def stores(monkeypatch: pytest.MonkeyPatch) -> tuple[Store, Store]:
    return two_stores(monkeypatch)


def _options(root: Path) -> engine.ReconcileOptions:
    return engine.ReconcileOptions(root=root, env="dev", lock_timeout=5)


def _apply(root: Path) -> None:
    with engine.prepare(_options(root), for_apply=True) as current:
        engine.apply(current)


def test_both_backends_are_read_at_once(
    project: Callable[..., Path], stores: tuple[Store, Store], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = project("dev")
    _apply(root)  # something live in both stores
    meeting = threading.Barrier(2, timeout=20)
    readers: set[str] = set()
    plain_read = MemoryBackend.read

    def read_when_both_read(self: MemoryBackend) -> list[LiveResource]:
        readers.add(threading.current_thread().name)
        meeting.wait()  # broken (an error) when the other backend is not being read meanwhile
        return plain_read(self)

    monkeypatch.setattr(MemoryBackend, "read", read_when_both_read)
    with engine.prepare(_options(root)) as current:
        assert current.change_set.in_sync
        assert {key.backend for key in (r.key for r in current.live)} == {"alpha", "omega"}
    assert len(readers) == 2


def test_a_failing_read_fails_the_comparison_and_names_its_backend(
    project: Callable[..., Path], stores: tuple[Store, Store]
) -> None:
    root = project("dev")
    _apply(root)
    stores[1].fail_reads = True
    failing = pytest.raises(base.BackendError, match="omega backend: reads are failing")
    with failing, engine.prepare(_options(root)):
        pass
