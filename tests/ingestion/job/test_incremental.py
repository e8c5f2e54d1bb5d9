"""Incremental windows: inserts and updates picked up, lookback re-reads add no duplicates, and
the lookback costs a key read: only the versions the lake lacks are read whole."""

from __future__ import annotations

from typing import Any

import pytest

from ingestion.job import lookback, lookback_local
from tests.ingestion.job.conftest import USAGE_DDL, Project, seed_usage
from tests.ingestion.job.helpers import run_job, source_versions, versions, watermark

pytestmark = pytest.mark.integration


@pytest.fixture(params=[lookback.ON_DRIVER, lookback.IN_SPARK])
def compared(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Where the lookback's comparison runs: on the driver (a small lookback of a PostgreSQL
    source, the default here) or in Spark (forced: no lookback is small enough)."""
    if request.param == lookback.IN_SPARK:
        monkeypatch.setattr(lookback_local, "DRIVER_ROWS", -1)
    return str(request.param)


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


def test_lookback_reread_creates_no_duplicate_versions(
    project: Project, spark: Any, compared: str
) -> None:
    project.sql(USAGE_DDL)
    seed_usage(project, 1, 30, "now() - interval '10 minutes'")
    run_job(project, spark)  # first run: everything
    seed_usage(project, 31, 40, "now()")
    run_job(project, spark)

    again = run_job(project, spark)  # the 1h lookback holds all 40 rows

    table = again.tables[0]
    assert table.rows_read == 0 and table.rows_written == 0  # no row read whole
    assert table.read["lookback"] == {
        "sql": table.read["lookback"]["sql"],
        "keys": 40,
        "missing": 0,
        "read": "none",
        "compared": compared,
    }
    assert table.read["lookback"]["sql"].startswith("SELECT usage_id, updated_at FROM")
    lake_versions = versions(project)
    assert len(lake_versions) == len(set(lake_versions)) == 40


def test_late_rows_inside_the_lookback_are_caught(
    project: Project, spark: Any, compared: str
) -> None:
    project.sql(USAGE_DDL)
    seed_usage(project, 1, 10, "now() - interval '3 hours'")
    run_job(project, spark)
    # committed after the run, stamped 20 minutes before its watermark (a long transaction)
    seed_usage(project, 11, 12, "now() - interval '20 minutes'")
    project.sql(
        "UPDATE usage_records SET updated_at = now() - interval '2 hours' WHERE usage_id = 13"
    )

    result = run_job(project, spark)

    ids = [v[0] for v in versions(project)]
    assert 11 in ids and 12 in ids
    assert len(ids) == 12
    table = result.tables[0]
    assert table.read["lookback"]["read"] == "by key"  # two keys, not the whole lookback
    assert table.read["lookback"]["compared"] == compared
    assert (table.read["lookback"]["missing"], table.rows_read, table.rows_written) == (2, 2, 2)


@pytest.mark.parametrize("disposition", ["append", "merge"])
def test_many_late_rows_read_the_lookback_whole_and_land_once(
    project: Project, spark: Any, monkeypatch: pytest.MonkeyPatch, disposition: str
) -> None:
    monkeypatch.setattr(lookback, "FETCH_LIMIT", 5)
    # the lake holds none of the lookback, the source more versions than the driver compares:
    # the comparison goes back to Spark
    monkeypatch.setattr(lookback_local, "DRIVER_ROWS", 10)
    project.sql(USAGE_DDL)
    seed_usage(project, 1, 10, "now() - interval '3 hours'")
    path = project.job(load={"write_disposition": disposition})
    run_job(project, spark, path)
    seed_usage(project, 11, 30, "now() - interval '20 minutes'")  # 20 late rows: over the limit
    seed_usage(project, 31, 33, "now()")

    result = run_job(project, spark, path)

    table = result.tables[0]
    assert table.read["lookback"]["read"] == "whole"
    assert table.read["lookback"]["compared"] == lookback.IN_SPARK
    assert (table.read["lookback"]["missing"], table.rows_read) == (20, 23)
    assert versions(project) == source_versions(project)  # every version once


def test_late_rows_of_a_text_key_are_read_by_key(
    project: Project, spark: Any, compared: str
) -> None:
    project.sql(
        "CREATE TABLE accounts (code text PRIMARY KEY, balance int, updated_at timestamptz)"
    )
    project.sql(
        "INSERT INTO accounts SELECT 'ACC-' || g, g, now() - interval '3 hours' "
        "FROM generate_series(1, 5) g"
    )
    tables = [{"name": "accounts", "primary_key": ["code"]}]
    path = project.job(tables=tables)
    run_job(project, spark, path)
    project.sql("INSERT INTO accounts VALUES ('ACC-9', 9, now() - interval '20 minutes')")
    project.sql("INSERT INTO accounts VALUES ('O''Brien', 10, now() - interval '20 minutes')")

    result = run_job(project, spark, path)

    table = result.tables[0]
    # a key with a quote is not written as a literal: the lookback is then read whole
    assert table.read["lookback"]["read"] == "whole"
    lake_codes = project.catalog().load_table("bss_raw.accounts").scan().to_arrow()["code"]
    assert sorted(lake_codes.to_pylist()) == sorted(
        ["ACC-1", "ACC-2", "ACC-3", "ACC-4", "ACC-5", "ACC-9", "O'Brien"]
    )
    project.sql(
        "UPDATE accounts SET updated_at = now() - interval '10 minutes' WHERE code = 'ACC-2'"
    )
    again = run_job(project, spark, path).tables[0]
    assert again.read["lookback"]["read"] == "by key" and again.rows_merged == 1
    assert again.read["lookback"]["compared"] == compared


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
