"""UTC everywhere: a job run on a host outside UTC lands every value exactly as the source has it.

Each run is a fresh ``python -m ingestion`` process with ``TZ`` set to a zone with an offset (and
DST), so its JVM would start in that zone unless the job puts it in UTC. The lake is read back
with pyiceberg and compared value for value with PostgreSQL (read in UTC).
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from pyiceberg.table.name_mapping import create_mapping_from_schema
from pyiceberg.types import DateType, TimestampType, TimestamptzType

from ingestion.job import session
from ingestion.job.errors import JobError
from tests.ingestion.job.conftest import PASSWORD, REPO, Project
from tests.ingestion.job.helpers import run_job

pytestmark = pytest.mark.integration
LOS_ANGELES, KOLKATA = "America/Los_Angeles", "Asia/Kolkata"
TABLE = "bss_raw.events"

EVENTS_DDL = """
CREATE TABLE events (
  id bigint PRIMARY KEY,
  ts timestamp,
  tstz timestamptz,
  d date,
  updated_at timestamp NOT NULL DEFAULT timezone('UTC', now()) - interval '2 hours'
)"""
# wall-clock values a zone with DST would move: the epoch, a spring-forward gap in Los Angeles,
# a fall-back repeat, microseconds, the extremes of the Iceberg range, and NULLs
EVENTS = """
INSERT INTO events (id, ts, tstz, d) VALUES
  (1, '1970-01-01 00:00:00', '1970-01-01 00:00:00+00', '1970-01-01'),
  (2, '2026-03-08 02:30:00', '2026-03-08 02:30:00+00', '2026-03-08'),
  (3, '2026-11-01 01:30:00', '2026-11-01 01:30:00-07', '2026-11-01'),
  (4, '2024-06-01 12:34:56.123456', '2024-06-01 12:34:56.123456+05:30', '2024-06-01'),
  (5, '0001-01-01 00:00:00', '0001-01-01 00:00:00+00', '0001-01-01'),
  (6, '9999-12-31 23:59:59.999999', '9999-12-31 23:59:59.999999+00', '9999-12-31'),
  (7, NULL, NULL, NULL)"""
SOURCE_ROWS = "SELECT id, ts, timezone('UTC', tstz) AS tstz, d, updated_at FROM events ORDER BY id"
TABLES = [{"name": "events", "primary_key": ["id"]}]
COLUMNS = ("id", "ts", "tstz", "d", "updated_at")


def ingest_in(zone: str, project: Project, **job: Any) -> subprocess.CompletedProcess[str]:
    path = project.job(tables=job.pop("tables", TABLES), **job)
    done = project.ingest("--config", str(path), env={"TZ": zone})
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def lake_rows(project: Project) -> list[tuple[Any, ...]]:
    """The lake's rows as the source query shows them (``timestamptz`` as a naive UTC time)."""
    table = project.catalog().load_table(TABLE)
    rows = table.scan(selected_fields=COLUMNS).to_arrow().to_pylist()
    found = [tuple(_utc_wall_clock(r[c]) for c in COLUMNS) for r in rows]
    return sorted(found, key=lambda r: (r[0], r[4]))  # id, updated_at (versions of a key)


def _utc_wall_clock(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is not None:
        assert value.utcoffset() is not None and not value.utcoffset()
        return value.replace(tzinfo=None)
    return value


def source_rows(project: Project) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in project.sql(SOURCE_ROWS)]


def column_types(project: Project) -> dict[str, Any]:
    table = project.catalog().load_table(TABLE)
    return {f.name: f.field_type for f in table.schema().fields}


@pytest.mark.parametrize(
    ("zone", "extract", "catalog", "disposition"),
    [
        (LOS_ANGELES, "jdbc", "sqlite", "replace"),
        (KOLKATA, "copy", "postgresql", "merge"),
    ],
)
def test_timestamps_and_dates_land_exactly_on_a_host_outside_utc(
    project: Project, zone: str, extract: str, catalog: str, disposition: str
) -> None:
    if catalog == "postgresql":
        project.use_postgres_catalog()
    project.sql(EVENTS_DDL)
    project.sql(EVENTS)

    done = ingest_in(
        zone,
        project,
        source={"extract": extract},
        load={"write_disposition": disposition},
    )

    assert "written 7" in done.stdout
    types = column_types(project)
    assert (types["ts"], types["updated_at"]) == (TimestampType(), TimestampType())
    assert (types["tstz"], types["d"]) == (TimestamptzType(), DateType())
    assert lake_rows(project) == source_rows(project)
    assert lake_rows(project)[5][1:4] == (
        datetime(9999, 12, 31, 23, 59, 59, 999999),
        datetime(9999, 12, 31, 23, 59, 59, 999999),
        date(9999, 12, 31),
    )


def test_incremental_run_outside_utc_picks_up_exactly_the_new_rows(project: Project) -> None:
    project.sql(EVENTS_DDL)
    project.sql(EVENTS)
    job = {
        "tables": [{**TABLES[0], "partition_column": "updated_at", "num_partitions": 2}],
        "load": {"write_disposition": "append"},
    }
    ingest_in(LOS_ANGELES, project, **job)
    project.sql(
        "INSERT INTO events (id, ts, tstz, d, updated_at) VALUES "
        "(8, '2026-03-08 02:45:00', '2026-03-08 02:45:00+00', '2026-03-08', "
        "timezone('UTC', now()) - interval '1 minute')"
    )
    project.sql(
        "UPDATE events SET ts = '2026-03-08 02:59:59', "
        "updated_at = timezone('UTC', now()) - interval '1 minute' WHERE id = 2"
    )

    done = ingest_in(LOS_ANGELES, project, **job)

    assert "rows read 2, written 2" in done.stdout
    versions = lake_rows(project)
    assert len(versions) == 9  # 7 first versions, a new row and a new version of id 2
    assert set(source_rows(project)) <= set(versions)
    again = ingest_in(LOS_ANGELES, project, **job)  # the lookback holds both: no duplicates
    assert "rows read 0, written 0" in again.stdout and len(lake_rows(project)) == 9
    summary = "lookback: 2 keys compared with the lake on the driver, 0 missing (read none)"
    assert summary in again.stdout


def test_merge_rewrites_keep_timestamp_columns_exact(project: Project, spark: Any) -> None:
    project.sql(EVENTS_DDL)
    project.sql(EVENTS)
    path = project.job(tables=TABLES)  # merge, the default
    run_job(project, spark, path)
    project.sql(
        "UPDATE events SET ts = '0001-01-01 00:00:00.000001', "
        "updated_at = timezone('UTC', now()) WHERE id IN (2, 6)"
    )

    merged = run_job(project, spark, path).tables[0]

    assert merged.rows_merged == 2
    assert column_types(project)["ts"] == TimestampType()
    assert lake_rows(project) == source_rows(project)


def test_a_table_written_as_timestamptz_by_an_earlier_version_keeps_its_type(
    project: Project,
) -> None:
    project.sql(EVENTS_DDL)
    project.sql(EVENTS)
    project.sql("DELETE FROM events WHERE id > 4")
    _older_table(project)

    ingest_in(LOS_ANGELES, project)  # merge: the lake has every version already
    project.sql(
        "UPDATE events SET ts = '2026-03-08 02:31:00', "
        "updated_at = timezone('UTC', now()) WHERE id = 2"
    )
    ingest_in(LOS_ANGELES, project)

    types = column_types(project)
    assert (types["ts"], types["updated_at"]) == (TimestamptzType(), TimestamptzType())
    assert lake_rows(project) == source_rows(project)


def _older_table(project: Project) -> None:
    """The table as versions before the UTC fix created it: every timestamp a ``timestamptz``,
    one snapshot of the source's rows, no watermark yet."""
    utc = pa.timestamp("us", tz="UTC")
    schema = pa.schema(
        [
            ("id", pa.int64()),
            ("ts", utc),
            ("tstz", utc),
            ("d", pa.date32()),
            ("updated_at", utc),
            ("_salam_run_id", pa.string()),
            ("_salam_extracted_at", utc),
            ("_salam_deleted", pa.bool_()),
        ]
    )
    rows = [dict(zip(COLUMNS, r, strict=True)) for r in source_rows(project)]
    for row in rows:
        row.update(_salam_run_id="older", _salam_extracted_at=datetime(2026, 1, 1))
        row.update(_salam_deleted=False)
    catalog = project.catalog()
    catalog.create_namespace_if_not_exists("bss_raw")
    table = catalog.create_table(TABLE, schema=schema)
    mapping = create_mapping_from_schema(table.schema()).model_dump_json()
    with table.transaction() as tx:  # as add_files left it: Spark's files carry no field ids
        tx.set_properties({"schema.name-mapping.default": mapping})
        tx.append(pa.Table.from_pylist(rows, schema=schema))


def test_a_value_beyond_the_iceberg_range_fails_the_commit_clearly(
    project: Project, spark: Any
) -> None:
    project.sql(EVENTS_DDL)
    project.sql(
        "INSERT INTO events (id, ts, tstz, d) VALUES (1, NULL, '10000-01-01 00:00:00+00', NULL)"
    )

    with pytest.raises(JobError) as failure:
        run_job(project, spark, project.job(tables=TABLES))

    assert failure.value.stage == "commit"
    assert "outside 0001-01-01 .. 9999-12-31 23:59:59.999999 UTC" in failure.value.message
    assert "clamp the value" in failure.value.hint
    assert project.catalog().load_table(TABLE).current_snapshot() is None


def test_spark_submit_outside_utc_is_refused_with_the_options_to_add(project: Project) -> None:
    project.sql(EVENTS_DDL)
    path = project.job(tables=TABLES)
    submit = [
        str(Path(sys.executable).parent / "spark-submit"),  # pyspark's, beside this Python
        "--master",
        "local[1]",
        "--jars",
        "/usr/share/java/postgresql.jar",
        str(REPO / "ingestion" / "entrypoints" / "spark_submit.py"),
        "run",
        "--config",
        str(path),
    ]
    env = {
        **os.environ,
        "TZ": LOS_ANGELES,
        "SALAM_TEST_PG_PASSWORD": PASSWORD,
        "PYTHONPATH": str(REPO),
        "PYSPARK_PYTHON": sys.executable,
        "PYSPARK_DRIVER_PYTHON": sys.executable,
        "SPARK_LOCAL_IP": "127.0.0.1",
    }

    done = subprocess.run(
        submit, check=False, cwd=project.root, env=env, capture_output=True, text=True, timeout=240
    )

    output = done.stdout + done.stderr  # spark-submit's python runner may mix the two
    assert done.returncode == 3, output[-3000:]
    assert "error [session] (terminal): the Spark JVMs must run in UTC" in output
    assert f"(driver {LOS_ANGELES})" in output
    assert "spark.driver.extraJavaOptions=-Duser.timezone=UTC" in output


def test_the_plans_own_spark_conf_lets_spark_submit_run_outside_utc(project: Project) -> None:
    """What a scheduled run does on a host outside UTC: the plan's command carries the conf."""
    project.sql(EVENTS_DDL)
    project.sql(EVENTS)
    path = project.job(tables=TABLES)
    env = {**os.environ, "SALAM_TEST_PG_PASSWORD": PASSWORD, "PYTHONPATH": str(REPO)}
    planned = subprocess.run(
        [str(Path(sys.executable).parent / "ingest"), "plan", "--config", str(path)],
        check=True, cwd=project.root, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    argv = json.loads(planned.stdout)["execution_command"]
    confs = [arg for flag, arg in itertools.pairwise(argv) if flag == "--conf"]
    assert "spark.driver.extraJavaOptions=-Duser.timezone=UTC" in confs
    submit = [
        str(Path(sys.executable).parent / "spark-submit"),
        "--master", "local[1]", "--jars", "/usr/share/java/postgresql.jar",
        *[part for conf in confs for part in ("--conf", conf)],
        str(REPO / "ingestion" / "entrypoints" / "spark_submit.py"), "run", "--config", str(path),
    ]  # fmt: skip
    outside = {
        **env, "TZ": LOS_ANGELES, "PYSPARK_PYTHON": sys.executable,
        "PYSPARK_DRIVER_PYTHON": sys.executable, "SPARK_LOCAL_IP": "127.0.0.1",
    }  # fmt: skip
    done = subprocess.run(
        submit,
        check=False,
        cwd=project.root,
        env=outside,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    assert lake_rows(project) == source_rows(project)


def test_built_sessions_add_utc_to_the_users_java_options() -> None:
    settings = {"spark": {"conf": {"spark.driver.extraJavaOptions": "-Xss4m"}}}
    job = {"spark": {"conf": {"spark.executor.extraJavaOptions": "-Duser.timezone=Asia/Kolkata"}}}

    conf = session.conf(settings, job)

    assert conf["spark.driver.extraJavaOptions"] == "-Xss4m -Duser.timezone=UTC"
    assert conf["spark.executor.extraJavaOptions"] == "-Duser.timezone=UTC"
    assert conf["spark.executorEnv.TZ"] == "UTC"
    assert conf["spark.sql.session.timeZone"] == "UTC"
