"""The remote (Spark Connect) session of a run, when ``environment.yaml`` names a warm engine.

``spark.connect: sc://HOST:PORT`` makes :func:`ingestion.job.session.get` call :func:`remote`
instead of starting a JVM: the run becomes a client of the long-running server that
``ingest engine --env E`` (:mod:`ingestion.job.engine`) keeps up, so it pays no session start.
Each run opens its own server-side session (a fresh ``session_id``, ``user_id=salam``) and
releases it at the end (:func:`close`), so runs of several jobs share the server's JVM but not
their temporary views or conf.

How it fails: a server that does not accept connections is refused before any gRPC call (whose
client would retry for minutes) — a transient :class:`JobError` (exit 75) naming the URL and how
to start the engine or run without it. Under Connect there is no ``SparkContext`` and no RDD:
code that needs one asks :func:`is_remote` first.
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlparse

from pyspark.sql import SparkSession

from ingestion.job.errors import JobError, RunExit

DEFAULT_PORT = 15002  # Spark Connect's
PROBE_TIMEOUT_S = 3.0
USER = "salam"


def url_of(settings: Mapping[str, Any]) -> str | None:
    """The environment's Spark Connect URL (``spark.connect``), or None for a local session."""
    value = (settings.get("spark") or {}).get("connect")
    return str(value) if value else None


def address(url: str) -> tuple[str, int]:
    """``(host, port)`` of an ``sc://host[:port][/;params]`` URL."""
    parsed = urlparse(url)
    if parsed.scheme != "sc" or not parsed.hostname:
        raise JobError(
            "session",
            f"spark.connect '{url}' is not a Spark Connect URL",
            "write it as sc://HOST:PORT (e.g. sc://127.0.0.1:15002)",
            RunExit.INVALID,
        )
    return parsed.hostname, parsed.port or DEFAULT_PORT


def remote(url: str) -> SparkSession:
    """A new session on the server at ``url``; transient error when the server is not there."""
    host, port = address(url)
    probe(host, port, url)
    base = url.split("/;", 1)[0].rstrip("/")
    params = url.split("/;", 1)[1] if "/;" in url else ""
    extra = f";{params}" if params else ""
    remote = f"{base}/;session_id={uuid.uuid4()};user_id={USER}{extra}"
    return SparkSession.builder.remote(remote).getOrCreate()


def probe(host: str, port: int, url: str) -> None:
    """Fail fast, as transient, when nothing accepts connections at ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=PROBE_TIMEOUT_S):
            return
    except OSError as exc:
        raise JobError(
            "session",
            f"the Spark Connect server {url} is not reachable ({exc.strerror or exc})",
            "start it (ingest engine --env ENV), or run without it: --set spark.connect=null",
            RunExit.TRANSIENT,
        ) from exc


def is_remote(spark: Any) -> bool:
    """Whether ``spark`` is a Spark Connect session (no SparkContext, no RDD)."""
    return type(spark).__module__.startswith("pyspark.sql.connect")


def close(spark: Any) -> None:
    """Release a remote session on the server (a classic one is left to the process)."""
    if is_remote(spark):
        spark.stop()
