"""Connect to Temporal from the ``temporal`` section of ``environment.yaml``.

``address`` and ``namespace`` are plain settings; ``tls`` (client certificate, key, server CA,
server name) and ``api_key`` are references resolved here, at connect time, by
:mod:`ingestion.shared.references`. Shared by the worker (:mod:`ingestion.worker.service`) and
the reconciler's Temporal backend; the only module of :mod:`ingestion.shared` that imports
``temporalio``. An unresolvable reference or an unreachable server raises
:class:`ConnectError` naming the setting or the address, never a secret.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from temporalio.client import Client
from temporalio.service import TLSConfig

from ingestion.shared import references

CONNECT_TIMEOUT = timedelta(seconds=10)


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


async def connect(settings: Mapping[str, Any], namespace: str | None = None) -> Client:
    """A client for ``namespace`` (default: the settings' namespace)."""
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
        )
    except Exception as exc:
        raise ConnectError(f"cannot connect to Temporal at {target}: {_reason(exc)}") from exc


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__
