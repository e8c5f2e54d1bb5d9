"""The remote (Spark Connect) session of a run, when ``environment.yaml`` names a warm engine.

``spark.connect: sc://HOST:PORT`` makes :func:`ingestion.job.session.get` call :func:`remote`
instead of starting a JVM: the run becomes a client of the long-running server that
``ingest engine --env E`` (:mod:`ingestion.job.engine`) keeps up, so it pays no session start.
Each run opens its own server-side session (a fresh ``session_id``, ``user_id=salam``) and
releases it at the end (:func:`close`), so runs of several jobs share the server's JVM but not
their temporary views or conf.

A run killed while its queries ran on the server (SIGKILL, a timeout) leaves them running there,
holding the cores every later run waits for. So a run names its session in a marker file (one per
job, written under the job's lock, removed when the session is released); a run that finds a
marker left over reattaches to that session, interrupts what still runs in it and releases it
before opening its own (:func:`interrupt_left_over`).

How it fails: a server that does not accept connections is refused before any gRPC call (whose
client would retry for minutes) — a transient :class:`JobError` (exit 75) naming the URL and how
to start the engine or run without it. Under Connect there is no ``SparkContext`` and no RDD:
code that needs one asks :func:`is_remote` first.
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import Mapping
from pathlib import Path
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


def remote(url: str, marker: Path | None = None) -> SparkSession:
    """A new session on the server at ``url``; transient error when the server is not there.

    ``marker`` (None for a run without the job's lock, e.g. a dry run) records the session id;
    a marker left by a killed run first gets its session's queries interrupted."""
    host, port = address(url)
    probe(host, port, url)
    if marker is not None and marker.exists():
        interrupt_left_over(url, marker.read_text().strip())
    session_id = str(uuid.uuid4())
    spark = SparkSession.builder.remote(with_session(url, session_id)).getOrCreate()
    if marker is not None:
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(session_id + "\n")
    return spark


def with_session(url: str, session_id: str) -> str:
    """``url`` naming the session (and Salam's user), keeping any parameters it has."""
    base = url.split("/;", 1)[0].rstrip("/")
    params = url.split("/;", 1)[1] if "/;" in url else ""
    extra = f";{params}" if params else ""
    return f"{base}/;session_id={session_id};user_id={USER}{extra}"


def interrupt_left_over(url: str, session_id: str) -> None:
    """Interrupt the queries a killed run left running in ``session_id``, and release it.

    Best effort: a session the server already released or never knew has nothing to stop."""
    try:
        uuid.UUID(session_id)
    except ValueError:
        return
    left = SparkSession.builder.remote(with_session(url, session_id)).getOrCreate()
    try:
        left.interruptAll()
    except Exception:  # released or expired meanwhile: nothing runs there
        pass
    finally:
        left.stop()


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


def close(spark: Any, marker: Path | None = None) -> None:
    """Release a remote session on the server (a classic one is left to the process)."""
    if is_remote(spark):
        spark.stop()
        if marker is not None:
            marker.unlink(missing_ok=True)
