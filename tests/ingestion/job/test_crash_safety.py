"""Crash injection: kill the process at each stage boundary, re-run, get exactly a clean run's rows.

Each crash runs ``python -m ingestion --config …`` in its own process (its own JVM), killed with
SIGKILL at the point; the re-run happens in this process on the shared Spark session.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ingestion.job import lake
from tests.ingestion.job.conftest import PASSWORD, USAGE_DDL, Project, seed_usage
from tests.ingestion.job.helpers import run_job, source_versions, staging_dirs, versions, watermark

pytestmark = pytest.mark.integration


def _prepare(project: Project, spark: Any, path: Path) -> tuple[str | None, int]:
    project.sql(USAGE_DDL)
    seed_usage(project, 1, 200)
    run_job(project, spark, path, run_id="base")
    seed_usage(project, 201, 260, "now()")
    project.sql("UPDATE usage_records SET amount = 0, updated_at = now() WHERE usage_id <= 10")
    table = project.catalog().load_table("bss_raw.usage_records")
    return watermark(project), len(table.snapshots())


@pytest.mark.parametrize("disposition", ["append", "merge"])
@pytest.mark.parametrize("point", ["before_write", "during_write", "after_write", "after_commit"])
def test_crash_then_rerun_gives_exactly_a_clean_run(
    project: Project, spark: Any, point: str, disposition: str
) -> None:
    path = project.job(load={"write_disposition": disposition})
    before, snapshots = _prepare(project, spark, path)

    crashed = project.ingest(
        "--config", str(path), "--run-id", "crash", env={"SALAM_CRASH_AT": point}
    )

    assert crashed.returncode == -9, crashed.stderr[-2000:]
    table = project.catalog().load_table("bss_raw.usage_records")
    committed = point == "after_commit"
    assert len(table.snapshots()) == snapshots + committed
    assert (watermark(project) != before) is committed
    _assert_consistent(project)

    run_job(project, spark, path, run_id="rerun")

    if disposition == "merge":  # the current state, row by row
        assert versions(project) == source_versions(project)
    else:  # every version
        assert versions(project) == sorted(source_versions(project) + _old_versions(project))
        assert len(_old_versions(project)) == 10
    _assert_consistent(project)
    assert staging_dirs(project) <= {"base", "crash", "rerun"}
    table = project.catalog().load_table("bss_raw.usage_records")
    committed_runs = lake.state(table).committed_runs
    assert staging_dirs(project) <= committed_runs


def _old_versions(project: Project) -> list[tuple[Any, ...]]:
    """The versions of rows 1..10 before their update (the lake keeps every version)."""
    lake_rows = versions(project)
    current = set(source_versions(project))
    return [v for v in lake_rows if v not in current]


def _assert_consistent(project: Project) -> None:
    """No duplicate version, every lake row below the watermark."""
    lake_rows = versions(project)
    assert len(lake_rows) == len(set(lake_rows))
    mark = watermark(project)
    assert mark is not None
    assert all(v[1].isoformat().replace("+00:00", "") < mark.rstrip("Z") for v in lake_rows)


def test_python_m_ingestion_runs_the_job_and_shows_what_it_did(project: Project) -> None:
    project.sql(USAGE_DDL)
    seed_usage(project, 1, 100)
    path = project.job()

    done = project.ingest("--config", str(path))

    assert done.returncode == 0, done.stderr[-2000:]
    assert "usage_records -> bss_raw.usage_records: committed" in done.stdout
    assert "written 100" in done.stdout and "snapshot" in done.stdout
    assert PASSWORD not in done.stdout + done.stderr
    dry = project.ingest("--config", str(path), "--dry-run")
    assert dry.returncode == 0 and "sql: SELECT * FROM" in dry.stdout


def test_bad_table_exits_terminal_and_source_down_exits_transient(project: Project) -> None:
    path = project.job(tables=[{"name": "missing", "primary_key": ["id"]}])
    assert project.ingest("--config", str(path)).returncode == 1
    down = project.job(source={"jdbc_url": "jdbc:postgresql://127.0.0.1:1/x?connectTimeout=2"})
    assert project.ingest("--config", str(down)).returncode == 75
