"""Under an apply lease the engine writes in chunks and checks the lease before each: once it
may have passed to another holder, not one more change is written."""

from __future__ import annotations

from reconciler import engine
from reconciler.backends.memory import MemoryBackend, Store
from reconciler.model import Action, Change, DesiredResource, ResourceKey, ResultStatus


def _creates(count: int) -> list[Change]:
    return [
        Change(
            ResourceKey("memory", "dev", f"job-{i:02}"),
            Action.CREATE,
            None,
            DesiredResource(ResourceKey("memory", "dev", f"job-{i:02}"), f"job_{i}", {}, {}),
        )
        for i in range(count)
    ]


def test_a_lost_lease_stops_the_apply_before_its_next_chunk(store: Store) -> None:
    backend = MemoryBackend(store, environment=None)  # type: ignore[arg-type]
    checks: list[int] = []

    def lease_lost() -> str | None:
        checks.append(len(checks))
        return "the lease was taken over by the-other-controller" if len(checks) > 2 else None

    changes = _creates(engine.LEASE_CHUNK * 3 + 1)
    results = engine._apply_in_order({"memory": backend}, changes, lease_lost)

    written = engine.LEASE_CHUNK * 2
    assert store.writes == written and len(store.resources) == written
    assert [r.status for r in results[:written]] == [ResultStatus.APPLIED] * written
    assert all(r.status is ResultStatus.SKIPPED for r in results[written:])
    assert "the-other-controller" in results[-1].error
    assert len(checks) == 4  # one check per chunk


def test_without_a_lease_every_change_is_applied_unchecked(store: Store) -> None:
    backend = MemoryBackend(store, environment=None)  # type: ignore[arg-type]
    results = engine._apply_in_order({"memory": backend}, _creates(engine.LEASE_CHUNK * 3))
    assert store.writes == engine.LEASE_CHUNK * 3 and all(r.ok for r in results)
