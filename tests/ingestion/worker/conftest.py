"""Fixtures for the worker tests: a real Temporal dev server, a project, a running worker."""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ingestion.config.loader import Environment, load_environment
from ingestion.worker import activities, service
from tests.reconciler.backends.temporal.server import TemporalServer, write_environment

_COUNTER = itertools.count()


@pytest.fixture(scope="session")
def worker_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TemporalServer]:
    server = TemporalServer(tmp_path_factory.mktemp("temporal-worker-server"))
    server.start()
    yield server
    server.stop()


@dataclass
class WorkerProject:
    root: Path
    server: TemporalServer
    namespace: str

    def load(self) -> Environment:
        return load_environment(
            self.root, "dev", overrides=[f"temporal.address={self.server.address}"]
        )


@pytest.fixture
def worker_project(tmp_path: Path, worker_server: TemporalServer) -> WorkerProject:
    namespace = f"salam-worker-{next(_COUNTER)}"
    worker_server.create_namespace(namespace)
    write_environment(tmp_path, "dev", namespace)
    return WorkerProject(tmp_path, worker_server, namespace)


@pytest.fixture
def running_worker(worker_project: WorkerProject) -> Iterator[WorkerProject]:
    """``service.serve`` on the project's dev environment in a background thread."""
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    environment = worker_project.load()
    settings = activities.Settings("dev", worker_project.root, heartbeat_every=0.5, kill_grace=2.0)
    done = threading.Event()

    def run() -> None:
        try:
            loop.run_until_complete(service.serve(environment, ["salam-dev"], stop, settings))
        finally:
            done.set()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    yield worker_project
    loop.call_soon_threadsafe(stop.set)
    assert done.wait(60), "worker did not stop"
