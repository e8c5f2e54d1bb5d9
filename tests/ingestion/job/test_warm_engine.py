"""The warm engine: ``ingest engine`` serves Spark Connect, ``ingest run`` is its client.

A real Spark Connect server (the command ``ingest engine`` runs, on a free loopback port) and the
real PostgreSQL: an incremental job runs end to end through the remote session, and a job whose
environment names a server that is down fails fast as transient (exit 75).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import yaml

from tests.ingestion.job.conftest import REPO, USAGE_DDL, Project, seed_usage, summary
from tests.ingestion.job.pgserver import free_port

pytestmark = pytest.mark.integration

READY_TIMEOUT_S = 180


@dataclass
class Engine:
    url: str
    process: subprocess.Popen[str]
    announced: str


def _set_connect(project: Project, url: str) -> None:
    path = project.root / "environments" / "test" / "environment.yaml"
    settings = yaml.safe_load(path.read_text())
    settings["spark"]["connect"] = url
    path.write_text(yaml.safe_dump(settings))


@pytest.fixture
def engine(project: Project) -> Iterator[Engine]:
    """``ingest engine --env test`` on a free port, named by the project's spark.connect."""
    port = free_port()
    url = f"sc://127.0.0.1:{port}"
    _set_connect(project, url)
    process = subprocess.Popen(
        [sys.executable, "-m", "ingestion", "engine", "--env", "test", "--port", str(port)],
        cwd=project.root,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    announced = process.stdout.readline()  # blocks until ready, or "" when it exits
    if f"Spark Connect at {url}" not in announced:
        process.kill()
        pytest.fail(f"ingest engine did not start: {announced!r} {process.communicate()}")
    try:
        yield Engine(url, process, announced)
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=60)
        assert process.returncode == 0, err
        assert "stopped" in out


def test_incremental_runs_through_the_warm_engine(project: Project, engine: Engine) -> None:
    project.sql(USAGE_DDL)
    seed_usage(project, 1, 200)
    path = project.job()
    first = summary(project.ingest("--config", str(path), "--json"))
    project.sql(
        "UPDATE usage_records SET amount = amount + 1, updated_at = now() WHERE usage_id % 10 = 0"
    )
    seed_usage(project, 201, 230, "now()")

    second = summary(project.ingest("--config", str(path), "--json"))

    assert first["engine"] == second["engine"] == engine.url
    assert first["tables"][0]["rows_written"] == 200
    assert second["tables"][0]["rows_read"] == 50  # 20 changed + 30 new
    assert project.lake_rows() == project.source_rows()
    log = (project.root / ".salam/state/engine/test.log").read_text()
    assert "Spark Connect server started" in log  # the runs' server wrote its log there
    assert [e["eventType"] for e in project.events()] == ["START", "COMPLETE"] * 2


def test_a_copy_full_load_runs_in_the_engines_python_workers(
    project: Project, engine: Engine
) -> None:
    project.sql(USAGE_DDL)
    seed_usage(project, 1, 3000)
    path = project.job(source={"extract": "copy", "num_partitions": 3})

    done = summary(project.ingest("--config", str(path), "--json"))

    assert done["engine"] == engine.url
    table = done["tables"][0]
    assert table["read"]["extract"] == "copy" and table["rows_read"] == 3000
    assert project.lake_rows() == project.source_rows()
    files = project.catalog().load_table("bss_raw.usage_records").inspect.files()
    assert files.num_rows == 3  # one Parquet file per partition query


LONG_QUERY = """
import sys
from pathlib import Path
from ingestion.job import connect
spark = connect.remote(sys.argv[1], Path(sys.argv[2]))
print("started", flush=True)
spark.range(0, 10**13, 1, 2).selectExpr("sum(id % 7)").collect()  # hours on 2 cores
"""

NEXT_RUN = """
import sys, time
from pathlib import Path
from ingestion.job import connect
marker = Path(sys.argv[2])
started = time.monotonic()
spark = connect.remote(sys.argv[1], marker)
assert spark.range(0, 100, 1, 2).count() == 100
connect.close(spark, marker)
print(round(time.monotonic() - started, 1), marker.exists())
"""


def _python(code: str, *args: str, **kwargs: Any) -> Any:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, "-c", code, *args], env=env, text=True, **kwargs)


def test_a_killed_runs_queries_are_interrupted_by_the_next_run(
    project: Project, engine: Engine
) -> None:
    marker = project.root / ".salam/state/engine/session-test-bss"
    killed = _python(LONG_QUERY, engine.url, str(marker), stdout=subprocess.PIPE)
    assert killed.stdout is not None and killed.stdout.readline().strip() == "started"
    time.sleep(3)  # its tasks now hold both cores of the server
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    assert marker.exists()

    following = _python(NEXT_RUN, engine.url, str(marker), stdout=subprocess.PIPE)
    out, _ = following.communicate(timeout=120)

    assert following.returncode == 0
    seconds, left = out.split()
    assert left == "False"  # released cleanly: no marker for the run after it
    assert float(seconds) < 60


def test_a_local_run_is_unchanged_without_spark_connect(project: Project) -> None:
    project.sql(USAGE_DDL)
    seed_usage(project, 1, 20)

    done = summary(project.ingest("--config", str(project.job()), "--json"))

    assert done["engine"] == "local"
    assert project.lake_rows() == project.source_rows()


def test_an_engine_that_is_down_fails_fast_as_transient(project: Project) -> None:
    project.sql(USAGE_DDL)
    seed_usage(project, 1, 10)
    url = f"sc://127.0.0.1:{free_port()}"
    _set_connect(project, url)
    started = time.monotonic()

    done = project.ingest("--config", str(project.job()))

    assert done.returncode == 75, done.stderr
    assert time.monotonic() - started < 30
    assert f"the Spark Connect server {url} is not reachable" in done.stderr
    assert "ingest engine --env" in done.stderr and "spark.connect=null" in done.stderr
    assert [e["eventType"] for e in project.events()] == ["START", "FAIL"]


def test_the_engine_refuses_a_port_already_taken(project: Project) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "ingestion", "engine", "--env", "test", "--port", str(port)],
            cwd=project.root,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert done.returncode == 1
    assert f"port {port} is already in use" in done.stderr
