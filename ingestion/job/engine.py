"""``ingest engine --env E``: the environment's warm Spark engine, a Spark Connect server.

Runs started with ``spark.connect`` set (:mod:`ingestion.job.connect`) are clients of it, so a
scheduled run pays no JVM start. :func:`command_line` is the server's spark-submit: the
environment's master, jars and ``spark.conf`` with what every run needs
(:func:`ingestion.plan.sparkconf.required`: UTC JVMs, ``TIMESTAMP_MICROS``), the UI off, gRPC
bound to loopback unless told otherwise. :func:`serve` starts it (its output in
``<state_dir>/engine/<env>.log``), waits for the port, runs one warm-up query (the first client
of a fresh server pays several seconds), prints where it listens, then stops it on SIGTERM /
SIGINT (SIGTERM to the server, SIGKILL after :data:`STOP_TIMEOUT_S`).

How it fails: a port already taken, a server that exits or does not listen within
:data:`START_TIMEOUT_S` (the last lines of its log are printed), a warm-up that fails —
each :class:`EngineError`, exit 1, and the server is stopped.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from ingestion.job import connect, copypath, session
from ingestion.plan import sparkconf

SERVER_CLASS = "org.apache.spark.sql.connect.service.SparkConnectServer"
LOOPBACK = "127.0.0.1"
START_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 30.0
SERVER_CONF = {"spark.ui.enabled": "false", "spark.ui.showConsoleProgress": "false"}


class EngineError(Exception):
    """The engine could not start or serve; the message says what to do."""


@dataclass(frozen=True)
class EngineOptions:
    env: str
    host: str = LOOPBACK
    port: int = connect.DEFAULT_PORT
    log: Path | None = None


def default_port(settings: Mapping[str, Any]) -> int:
    """The port of the environment's ``spark.connect`` URL, else Spark Connect's default."""
    url = connect.url_of(settings)
    return connect.address(url)[1] if url else connect.DEFAULT_PORT


def command_line(settings: Mapping[str, Any], options: EngineOptions) -> list[str]:
    """The spark-submit argv of the environment's Spark Connect server."""
    spark = settings.get("spark") or {}
    argv = [submit_executable(str(spark.get("submit", "spark-submit")))]
    argv += ["--class", SERVER_CLASS, "--master", str(spark.get("master", "local[*]"))]
    argv += ["--name", f"salam-engine-{options.env}"]
    conf = sparkconf.required({**SERVER_CONF, **(spark.get("conf") or {})})
    conf["spark.connect.grpc.binding.address"] = options.host
    conf["spark.connect.grpc.binding.port"] = str(options.port)
    for key in sorted(conf):
        argv += ["--conf", f"{key}={conf[key]}"]
    if spark.get("jars"):
        argv += ["--jars", ",".join(spark["jars"])]
    return argv


def submit_executable(submit: str) -> str:
    """``spark.submit``, or pyspark's own spark-submit when the default is not on the PATH."""
    if submit != "spark-submit" or shutil.which(submit):
        return submit
    return str(Path(spark_home()) / "bin" / "spark-submit")


def spark_home() -> str:
    """``$SPARK_HOME``, else the pip-installed pyspark's directory (which ships the jars)."""
    import pyspark

    return os.environ.get("SPARK_HOME") or str(Path(pyspark.__file__).parent)


def server_environment() -> dict[str, str]:
    """The server's environment: SPARK_HOME set, JVMs in UTC, Spark on loopback, and this
    interpreter for its Python workers (they run ``source.extract: copy``'s tasks)."""
    return {
        **os.environ,
        "PYSPARK_PYTHON": os.environ.get("PYSPARK_PYTHON", sys.executable),
        "SPARK_HOME": spark_home(),
        "SPARK_LOCAL_IP": os.environ.get("SPARK_LOCAL_IP", LOOPBACK),
        "TZ": sparkconf.UTC_ZONE,
    }


class Engine:
    """One Spark Connect server process: start, wait until it serves, warm up, stop."""

    def __init__(self, argv: list[str], options: EngineOptions, log: Path):
        self.argv, self.options, self.log = argv, options, log
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"sc://{_client_host(self.options.host)}:{self.options.port}"

    def start(self) -> None:
        if _listening(_client_host(self.options.host), self.options.port):
            raise EngineError(
                f"port {self.options.port} is already in use (another engine?): "
                "choose another with --port, and set spark.connect to match"
            )
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=server_environment(),
                start_new_session=True,  # a Ctrl-C reaches it through stop(), in order
            )

    def wait_ready(self, stopping: threading.Event, timeout: float = START_TIMEOUT_S) -> None:
        """Return once the port accepts connections (or a stop was asked for)."""
        deadline = time.monotonic() + timeout
        while not _listening(_client_host(self.options.host), self.options.port):
            if stopping.is_set():
                return
            if not self.alive():
                raise EngineError(f"the Spark Connect server exited: {self._tail()}")
            if time.monotonic() > deadline:
                raise EngineError(f"no server listening after {timeout:.0f}s: {self._tail()}")
            time.sleep(0.2)

    def warm_up(self) -> None:
        """One client session: a query, a Parquet round trip, the Python workers started with
        their imports done; pays the first-client cost."""
        spark = connect.remote(self.url)
        try:
            with tempfile.TemporaryDirectory(prefix="salam-engine-warmup-") as scratch:
                spark.range(0, 1000, 1, 2).selectExpr("id", "id * 2 AS twice").write.mode(
                    "overwrite"
                ).parquet(scratch + "/probe")
                spark.read.parquet(scratch + "/probe").agg({"twice": "sum"}).collect()
            copypath.start_workers(spark, session.parallelism(spark))
        finally:
            spark.stop()

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = STOP_TIMEOUT_S) -> int | None:
        """SIGTERM, then SIGKILL after ``timeout``; the server's exit status."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode

    def _tail(self, lines: int = 5) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        useful = [line for line in text.splitlines() if line.strip()][-lines:]
        return "\n  ".join([f"see {self.log}", *useful])


def serve(settings: Mapping[str, Any], options: EngineOptions, say: Callable[[str], None]) -> None:
    """Start the engine, warm it up, announce it, and serve until SIGTERM / SIGINT."""
    log = options.log or Path(tempfile.gettempdir()) / f"salam-engine-{options.env}.log"
    engine = Engine(command_line(settings, options), options, log)
    stopping = threading.Event()
    signals = (signal.SIGTERM, signal.SIGINT)
    previous = {sig: signal.signal(sig, _setter(stopping)) for sig in signals}
    try:
        engine.start()
        started = time.monotonic()
        engine.wait_ready(stopping)
        if stopping.is_set():
            return
        engine.warm_up()
        pid = engine.process.pid if engine.process else "?"
        say(
            f"engine {options.env}: Spark Connect at {engine.url} (pid {pid}, ready in "
            f"{time.monotonic() - started:.1f}s, log {log}); runs use it with "
            f"spark.connect: {engine.url}"
        )
        while not stopping.wait(1.0):
            if not engine.alive():
                raise EngineError(f"the Spark Connect server exited: {engine._tail()}")
    finally:
        code = engine.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    say(f"engine {options.env}: stopped (server exit status {code})")


def _setter(event: threading.Event) -> Callable[[int, FrameType | None], None]:
    def handler(signum: int, frame: FrameType | None) -> None:
        event.set()

    return handler


def _client_host(host: str) -> str:
    """Where a client on this machine reaches a server bound to ``host``."""
    return LOOPBACK if host in ("0.0.0.0", "", "::") else host


def _listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False
