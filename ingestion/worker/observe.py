"""The worker's HTTP endpoint (``ingest worker --listen HOST:PORT``): probes and metrics.

``GET /healthz`` (liveness) is 200 while the worker's event loop runs: a task on the loop
stamps the time every second, and a stamp older than :data:`STALE` (a blocked or dead loop)
makes it 503. ``GET /readyz`` is 200 once a Temporal worker runs on every task queue of the
environment — connected, the namespace checked, polling — and 503 before, and again from
shutdown on. ``GET /metrics`` is the Temporal SDK's own Prometheus exposition (``temporal_*``
and the workflow outcome counter of :mod:`ingestion.worker.outcomes`): the SDK exports it on a
private loopback port, passed through as is. The endpoint starts before the connection to
Temporal, so a worker that cannot connect is alive and not ready. A malformed or taken
address raises :class:`ListenError`. HTTP plumbing:
:mod:`ingestion.shared.httpserve`.
"""

from __future__ import annotations

import asyncio
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from typing import Protocol

from ingestion.shared.httpserve import HttpServer, Request, Response

STALE = 10.0  # seconds without a stamp from the event loop: not alive
BEAT = 1.0
SCRAPE_TIMEOUT = 5.0


class ListenError(Exception):
    """The ``--listen`` address is malformed or cannot be bound."""


class Polling(Protocol):
    @property
    def is_running(self) -> bool: ...


class Observer:
    """The probes and metrics of one worker process."""

    def __init__(self, listen: str, queues: Sequence[str]) -> None:
        host, port = split_address(listen)
        self.queues = tuple(queues)
        self.metrics_address = f"127.0.0.1:{_free_port()}"  # the SDK's exporter, private
        self.workers: list[Polling] = []
        self.stamp = time.monotonic()
        try:
            self.server = HttpServer(host, port, "salam-worker-http")
        except OSError as exc:
            raise ListenError(f"--listen {listen}: {exc.strerror or exc}") from exc
        self.server.route("GET", "/healthz", self._healthz)
        self.server.route("GET", "/readyz", self._readyz)
        self.server.route("GET", "/metrics", self._metrics)

    def ready(self) -> bool:
        running = [worker for worker in self.workers if worker.is_running]
        return len(running) == len(self.queues) > 0

    async def beat(self) -> None:
        """Stamp the time every :data:`BEAT` seconds while the event loop runs (a task)."""
        while True:
            self.stamp = time.monotonic()
            await asyncio.sleep(BEAT)

    def _healthz(self, request: Request) -> Response:
        age = time.monotonic() - self.stamp
        alive = age < STALE
        return Response.json(
            {"alive": alive, "loop_seconds_ago": round(age, 1)}, 200 if alive else 503
        )

    def _readyz(self, request: Request) -> Response:
        polling = sum(worker.is_running for worker in self.workers)
        document = {"ready": self.ready(), "task_queues": len(self.queues), "polling": polling}
        return Response.json(document, 200 if self.ready() else 503)

    def _metrics(self, request: Request) -> Response:
        url = f"http://{self.metrics_address}/metrics"
        try:
            with urllib.request.urlopen(url, timeout=SCRAPE_TIMEOUT) as response:
                return Response.metrics(response.read().decode())
        except (urllib.error.URLError, OSError) as exc:
            return Response.json({"error": f"the Temporal SDK's metrics: {exc}"}, 503)


def split_address(listen: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::]:PORT`` for IPv6) → (host, port)."""
    host, _, port = listen.rpartition(":")
    if not host or not port.isdigit():
        raise ListenError(f"--listen {listen!r}: expected HOST:PORT, e.g. 0.0.0.0:9464")
    return host.strip("[]"), int(port)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
