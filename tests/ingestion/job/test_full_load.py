"""A full load of one PostgreSQL table into one Iceberg snapshot carrying run id and watermark."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from ingestion.job import lake
from tests.ingestion.job.conftest import USAGE_DDL, Project, seed_usage
from tests.ingestion.job.helpers import run_job

pytestmark = pytest.mark.integration


def test_full_load_commits_one_snapshot_with_run_id_and_watermark(
    project: Project, spark: Any
) -> None:
    project.sql(USAGE_DDL)
    seed_usage(project, 1, 500)

    result = run_job(project, spark, run_id="run-1")

    table = project.catalog().load_table("bss_raw.usage_records")
    snapshot = table.current_snapshot()
    assert snapshot is not None and len(table.snapshots()) == 1
    props = snapshot.summary.additional_properties
    assert props[lake.RUN_ID] == "run-1"
    assert props[lake.WATERMARK] == table.properties[lake.WATERMARK]
    assert result.tables[0].rows_written == 500 and result.tables[0].rows_read == 500
    assert result.tables[0].read["num_partitions"] == 2  # the numeric primary key splits the read
    rows = table.scan().to_arrow().sort_by("usage_id")
    assert rows.num_rows == 500
    assert rows.column("amount")[1].as_py() == Decimal("0.0250")
    assert str(rows.schema.field("started_at").type) == "timestamp[us, tz=UTC]"
    assert rows.column("started_at")[0].as_py().isoformat() == "2024-05-01T00:00:01+00:00"


def test_same_run_id_twice_is_a_noop(project: Project, spark: Any) -> None:
    project.sql(USAGE_DDL)
    seed_usage(project, 1, 50)
    run_job(project, spark, run_id="same")
    seed_usage(project, 51, 60, "now()")

    again = run_job(project, spark, run_id="same")

    table = project.catalog().load_table("bss_raw.usage_records")
    assert again.tables[0].status == "already committed"
    assert len(table.snapshots()) == 1 and table.scan().to_arrow().num_rows == 50


def test_full_mode_replaces_the_table(project: Project, spark: Any) -> None:
    project.sql(USAGE_DDL)
    seed_usage(project, 1, 40)
    path = project.job(load={"mode": "full"})
    run_job(project, spark, path)
    project.sql("DELETE FROM usage_records WHERE usage_id > 30")

    result = run_job(project, spark, path)

    table = project.catalog().load_table("bss_raw.usage_records")
    assert result.tables[0].window is not None and result.tables[0].window.kind == "full"
    assert table.scan().to_arrow().num_rows == 30


def test_dry_run_prints_window_and_sql_and_moves_nothing(project: Project, spark: Any) -> None:
    project.sql(USAGE_DDL)
    seed_usage(project, 1, 10)

    result = run_job(project, spark, dry_run=True)

    assert "FROM usage_records WHERE (updated_at < " in result.tables[0].read["sql"]
    assert result.tables[0].window is not None and result.tables[0].window.kind == "initial"
    assert not project.catalog().table_exists("bss_raw.usage_records")
    assert project.events() == []


def test_copy_fast_path_builds_the_same_table_as_jdbc(project: Project, spark: Any) -> None:
    project.sql(USAGE_DDL)
    seed_usage(project, 1, 3000)
    jdbc = project.job("viajdbc", target={"namespace": "via_jdbc"})
    copy = project.job(
        "viacopy", target={"namespace": "via_copy"}, source={"extract": "copy", "num_partitions": 3}
    )

    run_job(project, spark, jdbc)
    result = run_job(project, spark, copy)

    assert result.tables[0].read["extract"] == "copy" and result.tables[0].rows_read == 3000
    catalog = project.catalog()
    via_jdbc = catalog.load_table("via_jdbc.usage_records")
    via_copy = catalog.load_table("via_copy.usage_records")
    assert via_copy.schema() == via_jdbc.schema()
    copied, read = (t.scan().to_arrow().sort_by("usage_id") for t in (via_copy, via_jdbc))
    assert set(copied.column(lake.RUN_ID_COLUMN).to_pylist()) == {result.run_id}
    assert set(copied.column(lake.DELETED_COLUMN).to_pylist()) == {False}
    assert copied.column(lake.EXTRACTED_AT_COLUMN).null_count == 0
    stamps = [lake.RUN_ID_COLUMN, lake.EXTRACTED_AT_COLUMN]
    assert copied.drop_columns(stamps) == read.drop_columns(stamps)
    assert via_copy.properties["salam.watermark"]
