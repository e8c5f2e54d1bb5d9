"""Connect to Temporal from the ``temporal`` section of ``environment.yaml``.

``address`` and ``namespace`` are plain settings; ``tls`` (client certificate, key, server CA,
server name) and ``api_key`` are references resolved here, at connect time, by
:mod:`ingestion.shared.references`. Shared by the worker (:mod:`ingestion.worker.service`) and
the reconciler's Temporal backend; the only module of :mod:`ingestion.shared` that imports
``temporalio``. An unresolvable reference or an unreachable server raises
:class:`ConnectError` naming the setting or the address, never a secret. The SDK's core (Rust)
logs, such as a WARN per retried RPC while the server is down, are forwarded to the Python
logger ``salam.temporal`` instead of being written with colours straight to the terminal: they
show where logging is configured to show them (the worker's log, ``reconcile --debug``) and
nowhere else.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from temporalio.client import Client
from temporalio.runtime import (
    LogForwardingConfig,
    LoggingConfig,
    PrometheusConfig,
    Runtime,
    TelemetryConfig,
    TelemetryFilter,
)
from temporalio.service import TLSConfig

from ingestion.shared import references

CONNECT_TIMEOUT = timedelta(seconds=10)
CORE_LOG = logging.getLogger("salam.temporal")
CORE_LOG.addHandler(logging.NullHandler())  # silent unless the application shows them


class ConnectError(Exception):
    """Temporal cannot be reached or the connection settings are unusable."""


def address(settings: Mapping[str, Any]) -> str:
    return str(settings.get("address", "127.0.0.1:7233"))


def tls_config(settings: Mapping[str, Any]) -> TLSConfig | None:
    """The TLS configuration, with every file reference resolved; None without ``tls``."""
    tls = settings.get("tls")
    if not tls:
        return None

    def read(key: str) -> bytes | None:
        return references.resolve_bytes(tls[key]) if tls.get(key) else None

    try:
        return TLSConfig(
            server_root_ca_cert=read("server_ca"),
            domain=tls.get("server_name"),
            client_cert=read("client_cert"),
            client_private_key=read("client_key"),
        )
    except references.UnresolvedReference as exc:
        raise ConnectError(f"Temporal TLS settings: {exc}") from exc


def api_key(settings: Mapping[str, Any]) -> str | None:
    if not settings.get("api_key"):
        return None
    try:
        return references.resolve_text(str(settings["api_key"]))
    except references.UnresolvedReference as exc:
        raise ConnectError(f"Temporal api_key: {exc}") from exc


async def connect(
    settings: Mapping[str, Any], namespace: str | None = None, metrics: str | None = None
) -> Client:
    """A client for ``namespace`` (default: the settings' namespace); with ``metrics``
    (``host:port``), its runtime serves the SDK's Prometheus metrics there."""
    target = address(settings)
    key = api_key(settings)
    tls: TLSConfig | bool = tls_config(settings) or bool(key)
    try:
        return await Client.connect(
            target,
            namespace=namespace or str(settings.get("namespace", "default")),
            tls=tls,
            api_key=key,
            connect_timeout=CONNECT_TIMEOUT,
            runtime=runtime(metrics),
        )
    except Exception as exc:
        raise ConnectError(f"cannot connect to Temporal at {target}: {_reason(exc)}") from exc


@functools.cache
def runtime(metrics: str | None = None) -> Runtime:
    """The process's Temporal runtime (one thread pool), forwarding core logs to ``CORE_LOG``;
    with ``metrics``, exporting the SDK's metrics in the Prometheus format on that address
    (counters ending in ``_total``, durations in seconds, units in the names)."""
    forwarding = LogForwardingConfig(logger=CORE_LOG, append_target_to_name=False)
    logs = LoggingConfig(TelemetryFilter(core_level="WARN", other_level="ERROR"), forwarding)
    exporter = None
    if metrics is not None:
        exporter = PrometheusConfig(
            bind_address=metrics,
            counters_total_suffix=True,
            unit_suffix=True,
            durations_as_seconds=True,
        )
    return Runtime(telemetry=TelemetryConfig(logging=logs, metrics=exporter))


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__
