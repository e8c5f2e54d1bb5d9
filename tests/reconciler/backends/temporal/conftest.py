"""Temporal backend test fixtures: one real dev server per session, a namespace per test."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ingestion.config.loader import Environment, load_environment
from ingestion.plan import environment as plans
from reconciler import diff
from reconciler.backends.temporal import TemporalBackend, TemporalOptions
from reconciler.model import ChangeSet, Result
from tests.reconciler.backends.temporal.server import TemporalServer, write_environment

_COUNTER = itertools.count()


@pytest.fixture(scope="session")
def temporal_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TemporalServer]:
    server = TemporalServer(tmp_path_factory.mktemp("temporal-server"))
    server.start()
    yield server
    server.stop()


@dataclass
class Project:
    """A throw-away project whose environments point at the test server."""

    root: Path
    server: TemporalServer
    namespace: str

    def add_environment(self, env: str, namespace: str | None = None) -> None:
        write_environment(self.root, env, namespace or self.namespace)

    def load(self, env: str = "dev") -> Environment:
        return load_environment(
            self.root, env, overrides=[f"temporal.address={self.server.address}"]
        )

    def backend(self, env: str = "dev", **options: object) -> TemporalBackend:
        return TemporalBackend(self.load(env), TemporalOptions(**options))  # type: ignore[arg-type]

    def reconcile(
        self, env: str = "dev", apply: bool = True, **options: object
    ) -> tuple[ChangeSet, list[Result]]:
        """Render, read, diff and (unless ``apply`` is False) apply; the engine's loop in small."""
        environment = self.load(env)
        with TemporalBackend(environment, TemporalOptions(**options)) as backend:  # type: ignore[arg-type]
            desired = [
                backend.render(p)
                for p in plans.render_all(environment, with_git=False).values()
                if p["mode"] == "temporal"
            ]
            change_set = diff.compute(env, desired, backend.read())
            results = backend.apply(change_set.pending()) if apply else []
        return change_set, results


@pytest.fixture
def project(tmp_path: Path, temporal_server: TemporalServer) -> Project:
    namespace = f"salam-test-{next(_COUNTER)}"
    temporal_server.create_namespace(namespace)
    made = Project(tmp_path, temporal_server, namespace)
    made.add_environment("dev")
    return made
