"""Fixtures for the ingestion job: a real PostgreSQL 15, one shared local Spark session, projects.

PostgreSQL runs from the Debian binaries as the ``postgres`` user (initdb refuses root) in a temp
directory on a free loopback port; every test gets its own database and its own project root
(environment, job configs, Iceberg SQL catalog on SQLite, warehouse, events file).
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml

from tests import openlineage
from tests.ingestion.job import pgserver

JARS = ["/usr/share/java/postgresql.jar", "/usr/share/java/sqlite-jdbc.jar"]
PASSWORD = "pg-secret-pw-42"
REPO = Path(__file__).resolve().parents[3]
_counter = itertools.count()


@dataclass
class Postgres:
    port: int
    directory: Path

    def connect(self, dbname: str = "postgres") -> psycopg.Connection[Any]:
        return psycopg.connect(
            host="127.0.0.1",
            port=self.port,
            user="postgres",
            dbname=dbname,
            password=PASSWORD,
            autocommit=True,
        )

    def create_database(self) -> str:
        name = f"src_{next(_counter)}"
        with self.connect() as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return name


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    if not (pgserver.PG_BIN / "initdb").exists():
        pytest.skip("PostgreSQL 15 is not installed (apt-get install postgresql)")
    directory = Path(tempfile.mkdtemp(prefix="salam-pg-"))
    try:
        yield Postgres(pgserver.start(directory, PASSWORD), directory)
    finally:
        pgserver.stop(directory, "immediate")
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    from ingestion.plan.sparkconf import UTC_OPTION

    session = (
        SparkSession.builder.master("local[2]")
        .appName("salam-tests")
        .config("spark.jars", ",".join(JARS))
        .config("spark.driver.extraJavaOptions", UTC_OPTION)  # the job refuses another zone
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


ENVIRONMENT = {
    "environment": "test",
    "description": "ingestion job tests",
    "state_dir": ".salam/state",
    "workdir": ".",
    "temporal": {
        "address": "127.0.0.1:7233",
        "namespace": "ingestion-test",
        "task_queues": ["spark-ingest-test"],
        "default_task_queue": "spark-ingest-test",
    },
    "crontab": {
        "target": {"file": ".salam/cron/test.cron"},
        "host_timezone": "UTC",
        "supports_cron_tz": False,
        "lock_dir": ".salam/locks",
    },
    "spark": {
        "submit": "spark-submit",
        "master": "local[2]",
        "deploy_mode": "client",
        "jars": JARS,
        "conf": {
            "spark.sql.session.timeZone": "UTC",
            "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
            "spark.sql.shuffle.partitions": "2",
            "spark.ui.enabled": "false",
        },
    },
    "lake": {
        "catalog": {"name": "salam", "type": "sql", "uri": "sqlite:///.salam/lake/catalog.db"},
        "warehouse": "file://.salam/lake/warehouse",
    },
    "events": {"sink": "file", "path": ".salam/events/test.jsonl"},
    "defaults": {
        "owner": "bss-data-platform",
        "source": {"fetchsize": 1000},
        "load": {"lookback": "1h", "safety_lag": "0s"},
    },
}


@dataclass
class Project:
    root: Path
    pg: Postgres
    dbname: str

    @property
    def url(self) -> str:
        return f"jdbc:postgresql://127.0.0.1:{self.pg.port}/{self.dbname}"

    def sql(self, statement: str, *params: Any) -> list[Any]:
        with self.pg.connect(self.dbname) as conn:
            cur = conn.execute(statement, params or None)
            return cur.fetchall() if cur.description else []

    def job(
        self, name: str = "bss", tables: list[dict[str, Any]] | None = None, **overrides: Any
    ) -> Path:
        """Write environments/test/jobs/<name>.yaml and return its path."""
        data: dict[str, Any] = {
            "name": name,
            "source": {
                "jdbc_url": self.url,
                "driver": "org.postgresql.Driver",
                "user": "postgres",
                "password_ref": "env:SALAM_TEST_PG_PASSWORD",
                "tables": tables or [{"name": "usage_records", "primary_key": ["usage_id"]}],
            },
            "load": {"mode": "incremental", "cursor_column": "updated_at", "lookback": "1h"},
            "target": {"namespace": "bss_raw"},
            "runtime": {
                "orchestration": {"mode": "plain_cron", "cron": {"expression": "0 * * * *"}}
            },
        }
        for key, value in overrides.items():
            data[key] = value if not isinstance(value, dict) else {**data.get(key, {}), **value}
        path = self.root / "environments" / "test" / "jobs" / f"{name}.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        return path

    def events(self) -> list[dict[str, Any]]:
        """Every event of the file sink, each validated against the OpenLineage schemas."""
        import json

        path = self.root / ".salam" / "events" / "test.jsonl"
        found = (
            [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
        )
        openlineage.validate_all(found)
        return found

    def lake_rows(self) -> list[tuple[Any, ...]]:
        """``bss_raw.usage_records``' (usage_id, amount, updated_at), sorted."""
        table = self.catalog().load_table("bss_raw.usage_records")
        rows = table.scan(selected_fields=("usage_id", "amount", "updated_at")).to_arrow()
        return sorted((r["usage_id"], r["amount"], r["updated_at"]) for r in rows.to_pylist())

    def source_rows(self) -> list[tuple[Any, ...]]:
        """The source's (usage_id, amount, updated_at), sorted."""
        rows = self.sql("SELECT usage_id, amount, updated_at FROM usage_records")
        return sorted(tuple(r) for r in rows)

    def catalog(self) -> Any:
        from ingestion.job import lake

        settings = yaml.safe_load((self.root / "environments/test/environment.yaml").read_text())
        return lake.open_catalog(settings, self.root)

    def use_postgres_catalog(self) -> None:
        """Put this project's Iceberg SQL catalog in a PostgreSQL database of its own."""
        name = self.pg.create_database()
        uri = f"postgresql+psycopg://127.0.0.1:{self.pg.port}/{name}"
        settings = {**ENVIRONMENT, "lake": {**ENVIRONMENT["lake"]}}
        settings["lake"]["catalog"] = {
            "name": "salam",
            "type": "sql",
            "uri": uri,
            "user": "postgres",
            "password_ref": "env:SALAM_TEST_PG_PASSWORD",
        }
        path = self.root / "environments" / "test" / "environment.yaml"
        path.write_text(yaml.safe_dump(settings))

    def ingest(
        self, *args: str, env: dict[str, str] | None = None, timeout: float = 240
    ) -> subprocess.CompletedProcess[str]:
        """``python -m ingestion --config …`` in a fresh process (its own JVM)."""
        return subprocess.run(
            [sys.executable, "-m", "ingestion", *args],
            cwd=self.root,
            env=self._ingest_env(env),
            check=False,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def start_ingest(self, *args: str) -> subprocess.Popen[str]:
        """``python -m ingestion …`` started in the background (output in ``ingest.log``)."""
        log = (self.root / "ingest.log").open("w")
        return subprocess.Popen(
            [sys.executable, "-m", "ingestion", *args],
            cwd=self.root,
            env=self._ingest_env(None),
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def _ingest_env(self, env: dict[str, str] | None) -> dict[str, str]:
        return {
            **os.environ,
            "SALAM_TEST_PG_PASSWORD": PASSWORD,
            "PYTHONPATH": str(REPO),
            **(env or {}),
        }


@pytest.fixture
def project(tmp_path: Path, postgres: Postgres, monkeypatch: pytest.MonkeyPatch) -> Project:
    root = tmp_path / "project"
    (root / "environments" / "test" / "jobs").mkdir(parents=True)
    (root / "environments" / "test" / "environment.yaml").write_text(yaml.safe_dump(ENVIRONMENT))
    monkeypatch.setenv("SALAM_TEST_PG_PASSWORD", PASSWORD)
    return Project(root, postgres, postgres.create_database())


USAGE_DDL = """
CREATE TABLE usage_records (
  usage_id bigint PRIMARY KEY,
  msisdn text NOT NULL,
  started_at timestamptz NOT NULL,
  amount numeric(14,4) NOT NULL,
  updated_at timestamptz NOT NULL
)"""


def summary(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """``ingest run --json``'s summary of a run that succeeded."""
    import json

    assert done.returncode == 0, done.stderr
    document: dict[str, Any] = json.loads(done.stdout)
    return document


def seed_usage(
    project: Project, first: int, last: int, updated_at: str = "now() - interval '2 hours'"
) -> None:
    project.sql(
        "INSERT INTO usage_records SELECT g, '+9198' || lpad(g::text, 8, '0'), "
        "timestamptz '2024-05-01 00:00:00+00' + g * interval '1 second', g * 0.0125, "
        f"{updated_at} FROM generate_series({first}, {last}) g"
    )
