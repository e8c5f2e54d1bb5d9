"""Fixtures for the worker tests: a real Temporal dev server, a project, a running worker, and a
loopback webhook receiver."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest

from ingestion.config.loader import Environment, load_environment
from ingestion.worker import activities, observe, service
from tests.reconciler.backends.temporal.server import TemporalServer, write_environment

# the token of the loopback receiver's URL, made per run: asserted never to appear in an alert
WEBHOOK_TOKEN = secrets.token_hex(8)
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
    """``service.serve`` on the project's dev environment in a background thread, with the
    worker's own heartbeat and kill timings."""
    settings = activities.Settings("dev", worker_project.root)
    with serving(worker_project, settings):
        yield worker_project


@contextlib.contextmanager
def serving(
    project: WorkerProject,
    settings: activities.Settings,
    observer: observe.Observer | None = None,
) -> Iterator[None]:
    """``service.serve`` on every task queue of the project's dev environment with
    ``settings`` (and ``observer``'s endpoint), in a thread."""
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    environment = project.load()
    done = threading.Event()

    def run() -> None:
        try:
            queues = service.task_queues(environment)
            serve = service.serve(environment, queues, stop, settings, observer)
            loop.run_until_complete(serve)
        finally:
            done.set()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield
    finally:
        loop.call_soon_threadsafe(stop.set)
        assert done.wait(60), "worker did not stop"


@pytest.fixture
def webhook(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, Any]]]:
    """A loopback HTTP server recording JSON POSTs; its URL is in $SALAM_TEST_WEBHOOK."""
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv(
        "SALAM_TEST_WEBHOOK",
        f"http://127.0.0.1:{server.server_address[1]}/hook?token={WEBHOOK_TOKEN}",
    )
    yield received
    server.shutdown()
    server.server_close()
