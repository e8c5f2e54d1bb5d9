"""Partitioned reads share out the window's rows evenly, also when it is sparse on the key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from ingestion.job import direct, extract
from ingestion.job.extract import MIN_PARTITION_ROWS
from ingestion.job.source import Source, load_source
from tests.ingestion.job.conftest import USAGE_DDL, Project, seed_usage
from tests.ingestion.job.helpers import run_job, source_versions, versions

pytestmark = pytest.mark.integration


def _rows_per_partition(project: Project, read: dict[str, Any]) -> list[int]:
    window = read["sql"]
    return [
        project.sql(f"SELECT count(*) FROM ({window}) w WHERE {predicate}")[0][0]
        for predicate in read["predicates"]
    ]


def test_a_sparse_window_of_a_dense_key_is_cut_at_its_quantiles(
    project: Project, spark: Any
) -> None:
    project.sql(USAGE_DDL)
    seed_usage(project, 1, 500_000, "now() - interval '3 hours'")
    path = project.job(source={"num_partitions": 4})
    first = run_job(project, spark, path).tables[0]
    assert first.read["num_partitions"] == 4 and "predicates" not in first.read  # strides
    # 200,000 changed rows at both ends of the key range: equal strides over [1, 500000] would
    # give 100,000, 0, 0 and 100,000 rows
    project.sql(
        "UPDATE usage_records SET amount = amount + 1, updated_at = now() "
        "WHERE usage_id <= 100000 OR usage_id > 400000"
    )

    again = run_job(project, spark, path).tables[0]

    assert again.window is not None and again.window.kind == "incremental"
    assert again.read["num_partitions"] == 4
    assert _rows_per_partition(project, again.read) == [50_000] * 4
    assert again.rows_read == 200_000
    assert versions(project) == source_versions(project)  # merged: the lake is the source


def test_a_small_window_is_read_in_one_partition(project: Project, spark: Any) -> None:
    project.sql(USAGE_DDL)
    seed_usage(project, 1, 20_000, "now() - interval '3 hours'")
    path = project.job(source={"num_partitions": 4})
    run_job(project, spark, path)
    project.sql(
        "UPDATE usage_records SET amount = amount + 1, updated_at = now() WHERE usage_id % 10 = 0"
    )  # 2,000 rows: too few for two partitions of MIN_PARTITION_ROWS
    assert MIN_PARTITION_ROWS * 2 > 2_000

    again = run_job(project, spark, path).tables[0]

    assert again.read["num_partitions"] == 1 and "predicates" not in again.read
    assert again.rows_read == 2_000
    assert versions(project) == source_versions(project)


def test_the_driver_and_spark_jdbc_plan_the_same_read(
    project: Project, spark: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The window's small queries (clock, bounds, cuts) run on the driver for a plain
    PostgreSQL URL, and through Spark JDBC for one with a parameter connectorx cannot pass on:
    both plan the same read."""
    monkeypatch.setattr(extract, "MIN_PARTITION_ROWS", 100)  # cuts for a small window
    project.sql(USAGE_DDL)
    seed_usage(project, 1, 20_000, "now() - interval '3 hours'")
    on_driver = project.job("ondriver", source={"num_partitions": 4})
    url = f"{project.url}?ApplicationName=salam-test"
    via_spark = project.job(
        "viaspark", target={"namespace": "via_spark"}, source={"num_partitions": 4, "jdbc_url": url}
    )
    assert direct.usable(_source(on_driver)) and not direct.usable(_source(via_spark))
    for path in (on_driver, via_spark):
        run_job(project, spark, path)
    project.sql(
        "UPDATE usage_records SET amount = amount + 1, updated_at = now() "
        "WHERE usage_id <= 1000 OR usage_id > 19500"
    )

    dry = [run_job(project, spark, p, dry_run=True) for p in (on_driver, via_spark)]

    plans = [run.tables[0].read for run in dry]
    shared = [{k: v for k, v in plan.items() if k not in ("sql", "lookback")} for plan in plans]
    assert shared[0] == shared[1]
    assert shared[0]["num_partitions"] == 4 and len(shared[0]["predicates"]) == 4
    done = run_job(project, spark, on_driver).tables[0]
    assert _rows_per_partition(project, done.read) == [375, 375, 375, 375]


def _source(path: Path) -> Source:
    return load_source(yaml.safe_load(path.read_text()))
