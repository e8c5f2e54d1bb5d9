"""The same job on a Spark standalone cluster (``spark.master: spark://…``).

A real master and worker (pyspark's ``spark-class``, on free loopback ports) and the real
PostgreSQL: ``ingest run`` in its own process is the driver. A full load through the COPY fast
path (its Python tasks run on the cluster's executor) and an incremental run through Spark JDBC
land exactly the source's rows; the driver commits with pyiceberg.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from ingestion.job.engine import spark_home
from tests.ingestion.job.conftest import USAGE_DDL, Project, seed_usage, summary
from tests.ingestion.job.pgserver import free_port

pytestmark = pytest.mark.integration

REGISTER_TIMEOUT_S = 120
REGISTERED = "Successfully registered with master"


def _start(argv: list[str], log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "SPARK_HOME": spark_home(),
        "SPARK_LOCAL_IP": "127.0.0.1",
        "PYSPARK_PYTHON": sys.executable,
        "TZ": "UTC",
    }
    with log.open("wb") as out:
        return subprocess.Popen(
            [str(Path(spark_home()) / "bin" / "spark-class"), *argv],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@dataclass(frozen=True)
class Cluster:
    url: str
    work: Path  # the worker's directory: one app-* directory per application it served


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """A standalone master and one worker (2 cores, 2 GiB)."""
    home = tmp_path_factory.mktemp("spark-cluster")
    port = free_port()
    url = f"spark://127.0.0.1:{port}"
    master_argv = ["org.apache.spark.deploy.master.Master", "--host", "127.0.0.1"]
    master = _start(
        [*master_argv, "--port", str(port), "--webui-port", str(free_port())], home / "master.log"
    )
    worker_argv = ["org.apache.spark.deploy.worker.Worker", url, "--host", "127.0.0.1"]
    resources = ["--cores", "2", "--memory", "2g", "--work-dir", str(home / "work")]
    worker = _start(
        [*worker_argv, *resources, "--webui-port", str(free_port())], home / "worker.log"
    )
    try:
        deadline = time.monotonic() + REGISTER_TIMEOUT_S
        while REGISTERED not in (home / "worker.log").read_text(errors="replace"):
            assert master.poll() is None, (home / "master.log").read_text()
            assert worker.poll() is None, (home / "worker.log").read_text()
            assert time.monotonic() < deadline, (home / "worker.log").read_text()
            time.sleep(0.5)
        yield Cluster(url, home / "work")
    finally:
        _stop(worker)
        _stop(master)


def _use_cluster(project: Project, url: str) -> None:
    path = project.root / "environments" / "test" / "environment.yaml"
    settings = yaml.safe_load(path.read_text())
    settings["spark"]["master"] = url
    path.write_text(yaml.safe_dump(settings))


def test_a_job_runs_on_a_standalone_cluster(project: Project, cluster: Cluster) -> None:
    _use_cluster(project, cluster.url)
    project.sql(USAGE_DDL)
    seed_usage(project, 1, 3000)
    path = project.job(source={"extract": "copy", "num_partitions": 2})
    env = {"SPARK_LOCAL_IP": "127.0.0.1"}  # the executor reaches the driver on loopback

    first = summary(project.ingest("--config", str(path), "--json", env=env))
    project.sql(
        "UPDATE usage_records SET amount = amount + 1, updated_at = now() WHERE usage_id % 10 = 0"
    )
    seed_usage(project, 3001, 3100, "now()")
    second = summary(project.ingest("--config", str(path), "--json", env=env))

    assert first["tables"][0]["read"]["extract"] == "copy"
    assert first["tables"][0]["rows_written"] == 3000
    assert second["tables"][0]["rows_read"] == 400  # by Spark JDBC: 300 changed + 100 new
    assert project.lake_rows() == project.source_rows()
    assert len(list(cluster.work.glob("app-*"))) == 2  # both runs had executors on the worker
