"""Incremental windows: inserts and updates picked up, lookback re-reads add no duplicates."""

from __future__ import annotations

from typing import Any

import pytest

from tests.ingestion.job.conftest import USAGE_DDL, Project, seed_usage
from tests.ingestion.job.helpers import run_job, source_versions, versions, watermark

pytestmark = pytest.mark.integration


def test_incremental_picks_up_inserts_and_updates_and_nothing_else(
    project: Project, spark: Any
) -> None:
    project.sql(USAGE_DDL)
    seed_usage(project, 1, 100)
    path = project.job(load={"write_disposition": "append"})  # history: every version
    run_job(project, spark, path)
    first = watermark(project)
    seed_usage(project, 101, 120, "now()")
    project.sql(
        "UPDATE usage_records SET amount = amount + 1, updated_at = now() WHERE usage_id <= 5"
    )

    result = run_job(project, spark, path)

    table = result.tables[0]
    assert table.window is not None and table.window.kind == "incremental"
    assert table.rows_read == 25 and table.rows_written == 25
    assert str(watermark(project)) > str(first)
    lake_versions = versions(project)
    assert len(lake_versions) == 125
    assert set(source_versions(project)) <= set(lake_versions)


def test_lookback_reread_creates_no_duplicate_versions(project: Project, spark: Any) -> None:
    project.sql(USAGE_DDL)
    seed_usage(project, 1, 30, "now() - interval '10 minutes'")
    run_job(project, spark)  # first run: everything
    seed_usage(project, 31, 40, "now()")
    run_job(project, spark)

    again = run_job(project, spark)  # the 1h lookback re-reads all 40 rows

    assert again.tables[0].rows_read == 40 and again.tables[0].rows_written == 0
    lake_versions = versions(project)
    assert len(lake_versions) == len(set(lake_versions)) == 40


def test_late_rows_inside_the_lookback_are_caught(project: Project, spark: Any) -> None:
    project.sql(USAGE_DDL)
    seed_usage(project, 1, 10, "now() - interval '3 hours'")
    run_job(project, spark)
    # committed after the run, stamped 20 minutes before its watermark (a long transaction)
    seed_usage(project, 11, 12, "now() - interval '20 minutes'")
    project.sql(
        "UPDATE usage_records SET updated_at = now() - interval '2 hours' WHERE usage_id = 13"
    )

    run_job(project, spark)

    ids = [v[0] for v in versions(project)]
    assert 11 in ids and 12 in ids
    assert len(ids) == 12


def test_backfill_does_not_move_the_watermark_back(project: Project, spark: Any) -> None:
    project.sql(USAGE_DDL)
    seed_usage(project, 1, 10)
    run_job(project, spark)
    before = watermark(project)
    project.sql(
        "INSERT INTO usage_records VALUES (99, 'x', now(), 1, timestamptz '2020-01-01 12:00:00+00')"
    )

    result = run_job(
        project, spark, backfill_from="2020-01-01T00:00:00Z", backfill_to="2020-01-02T00:00:00Z"
    )

    assert result.tables[0].rows_written == 1
    assert watermark(project) == before
    assert 99 in [v[0] for v in versions(project)]
