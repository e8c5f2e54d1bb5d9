"""The Temporal backend's connection: one client per run, on an event loop of its own.

The engine calls backends synchronously (and may call them from worker threads), while
temporalio is asyncio: :class:`Session` runs a private loop in a daemon thread and hands it
coroutines. Connection settings come from the ``temporal`` section of ``environment.yaml``
(:mod:`ingestion.shared.temporal` resolves the TLS and API-key references); an unreachable
server is a :class:`BackendError` naming the address, raised before anything is read or applied.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Mapping
from typing import Any, TypeVar

from temporalio.client import Client

from ingestion.shared import temporal as connection
from reconciler.backends.base import BackendError

T = TypeVar("T")


class Session:
    """A private event loop in a daemon thread plus the clients opened on it, per namespace."""

    def __init__(self, settings: Mapping[str, Any]) -> None:
        self.settings = settings
        self.address = connection.address(settings)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="salam-temporal", daemon=True
        )
        self._thread.start()
        self._clients: dict[str, Client] = {}

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        """Run ``work`` on the session's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(work, self._loop).result()

    async def client(self, namespace: str) -> Client:
        """The client for ``namespace``; the first call connects, later ones share it."""
        if namespace in self._clients:
            return self._clients[namespace]
        if self._clients:
            first = next(iter(self._clients.values()))
            client = Client(
                first.service_client, namespace=namespace, data_converter=first.data_converter
            )
        else:
            try:
                client = await connection.connect(self.settings, namespace)
            except connection.ConnectError as exc:
                raise BackendError(f"temporal: {exc}; nothing was read or applied") from exc
        self._clients[namespace] = client
        return client

    def close(self) -> None:
        self._clients.clear()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
