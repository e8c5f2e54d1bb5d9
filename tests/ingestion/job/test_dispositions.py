"""Write dispositions on a SQLite and a PostgreSQL catalog: merge gives the source's current state,
append keeps history, replace equals the source snapshot, deletes reach the lake, one writer wins.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from ingestion.job import lake, table_run
from ingestion.job.errors import JobError, RunExit
from tests.ingestion.job.conftest import USAGE_DDL, Project, seed_usage
from tests.ingestion.job.helpers import run_job, staging_dirs, versions

pytestmark = pytest.mark.integration
TABLE = "bss_raw.usage_records"
COLUMNS = "usage_id, msisdn, started_at, amount, updated_at"


@pytest.fixture(params=["sqlite", "postgresql"])
def lake_project(request: pytest.FixtureRequest, project: Project) -> Project:
    if request.param == "postgresql":
        project.use_postgres_catalog()
    return project


def source_rows(project: Project) -> list[tuple[Any, ...]]:
    return sorted(tuple(r) for r in project.sql(f"SELECT {COLUMNS} FROM usage_records"))


def lake_rows(project: Project) -> list[dict[str, Any]]:
    return project.catalog().load_table(TABLE).scan().to_arrow().to_pylist()


def current_state(project: Project) -> list[tuple[Any, ...]]:
    names = [c.strip() for c in COLUMNS.split(",")]
    return sorted(tuple(r[n] for n in names) for r in lake_rows(project))


def _loaded_then_changed(
    project: Project, spark: Any, run_id: str | None = None, **job: Any
) -> Path:
    """The job (``project.job(**job)``) after a first run of 100 rows; then 10 rows inserted,
    5 updated and 3 deleted in the source."""
    project.sql(USAGE_DDL)
    seed_usage(project, 1, 100)
    path = project.job(**job)
    run_job(project, spark, path, run_id=run_id)
    seed_usage(project, 101, 110, "now()")
    project.sql("UPDATE usage_records SET amount = -1, updated_at = now() WHERE usage_id <= 5")
    project.sql("DELETE FROM usage_records WHERE usage_id BETWEEN 50 AND 52")
    return path


def test_merge_gives_the_sources_current_state_row_by_row(
    lake_project: Project, spark: Any
) -> None:
    project = lake_project
    path = _loaded_then_changed(project, spark, "first", load={"deletes": "detect"})

    result = run_job(project, spark, path, run_id="second")

    done = result.tables[0]
    assert done.write_disposition == "merge"
    assert done.rows_merged == 15 and done.rows_deleted == 3
    assert current_state(project) == source_rows(project)
    table = project.catalog().load_table(TABLE)
    assert len(table.snapshots()) == 2
    summary = table.current_snapshot().summary.additional_properties
    assert summary[lake.RUN_ID] == "second" and summary[lake.WATERMARK]
    assert summary[lake.WATERMARK] == table.properties[lake.WATERMARK]
    rows = lake_rows(project)
    assert {r[lake.RUN_ID_COLUMN] for r in rows if r["usage_id"] in (1, 101)} == {"second"}
    assert {r[lake.RUN_ID_COLUMN] for r in rows if r["usage_id"] == 99} == {"first"}
    assert all(r[lake.EXTRACTED_AT_COLUMN].tzinfo is not None for r in rows)
    assert {r[lake.DELETED_COLUMN] for r in rows} == {False}


def test_merge_rerun_of_the_lookback_changes_nothing_and_same_run_id_is_a_noop(
    lake_project: Project, spark: Any
) -> None:
    project = lake_project
    project.sql(USAGE_DDL)
    seed_usage(project, 1, 40, "now() - interval '10 minutes'")
    run_job(project, spark, run_id="one")
    project.sql("UPDATE usage_records SET amount = 7, updated_at = now() WHERE usage_id = 3")
    run_job(project, spark, run_id="two")
    before = lake_rows(project)

    again = run_job(project, spark, run_id="three")  # the lookback holds every row
    same = run_job(project, spark, run_id="three")

    # its 40 keys are compared with the lake's versions: none is read whole, none merged
    assert again.tables[0].read["lookback"]["keys"] == 40
    assert again.tables[0].rows_read == 0 and again.tables[0].rows_merged == 0
    assert same.tables[0].status == "already committed"
    assert sorted(lake_rows(project), key=str) == sorted(before, key=str)
    assert current_state(project) == source_rows(project)


def test_append_keeps_history_and_tombstones_deleted_keys(
    lake_project: Project, spark: Any
) -> None:
    project = lake_project
    load = {"write_disposition": "append", "deletes": "detect"}
    path = _loaded_then_changed(project, spark, load=load)

    result = run_job(project, spark, path)
    run_job(project, spark, path)  # a tombstone is written once

    assert result.tables[0].rows_deleted == 3
    rows = lake_rows(project)
    stones = sorted(r["usage_id"] for r in rows if r[lake.DELETED_COLUMN])
    assert stones == [50, 51, 52]
    assert all(r["amount"] is None for r in rows if r[lake.DELETED_COLUMN])
    live = [r for r in rows if not r[lake.DELETED_COLUMN]]
    assert len(live) == 100 + 10 + 5  # every version: the 5 updated rows twice
    assert sorted(r["amount"] for r in live if r["usage_id"] == 1) == [
        Decimal("-1"),
        Decimal("0.0125"),
    ]


def test_replace_equals_the_source_snapshot(lake_project: Project, spark: Any) -> None:
    project = lake_project
    path = _loaded_then_changed(project, spark, source={"tables": [_usage("replace")]})
    project.sql("UPDATE usage_records SET amount = 5 WHERE usage_id = 7")  # cursor not moved

    result = run_job(project, spark, path)

    assert result.tables[0].window is not None and result.tables[0].window.kind == "full"
    assert current_state(project) == source_rows(project)


def _usage(disposition: str) -> dict[str, Any]:
    return {"name": "usage_records", "primary_key": ["usage_id"], "write_disposition": disposition}


@pytest.mark.parametrize("disposition", ["merge", "append"])
def test_two_writers_on_one_table_one_is_refused_then_its_retry_succeeds(
    lake_project: Project, spark: Any, monkeypatch: pytest.MonkeyPatch, disposition: str
) -> None:
    project = lake_project
    project.sql(USAGE_DDL)
    seed_usage(project, 1, 50)
    first = project.job("first", source={"tables": [_usage(disposition)]})
    second = project.job("second", source={"tables": [_usage(disposition)]})
    run_job(project, spark, first, run_id="base")
    seed_usage(project, 51, 60, "now()")
    project.sql("UPDATE usage_records SET amount = -1, updated_at = now() WHERE usage_id <= 5")
    _while_committing(monkeypatch, lambda: run_job(project, spark, second, run_id="other"))

    with pytest.raises(JobError) as refused:
        run_job(project, spark, first, run_id="late")

    assert refused.value.code == RunExit.TRANSIENT == 75 and refused.value.stage == "commit"
    assert "late" not in staging_dirs(project)
    assert "late" not in lake.state(project.catalog().load_table(TABLE)).committed_runs
    run_job(project, spark, first, run_id="late")
    lake_versions = versions(project)
    assert len(lake_versions) == len(set(lake_versions))
    if disposition == "merge":
        assert current_state(project) == source_rows(project)


def _while_committing(monkeypatch: pytest.MonkeyPatch, other: Callable[[], object]) -> None:
    """Run ``other`` (a whole second writer) just before the next commit of this process."""
    original = table_run.commit.commit
    pending = [other]

    def commit_after_the_other(*args: Any, **kwargs: Any) -> Any:
        while pending:
            pending.pop()()
        return original(*args, **kwargs)

    monkeypatch.setattr(table_run.commit, "commit", commit_after_the_other)
