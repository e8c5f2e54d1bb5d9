"""Partitioned reads share out the window's rows evenly, also when it is sparse on the key."""

from __future__ import annotations

from typing import Any

import pytest

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
    seed_usage(project, 1, 20_000, "now() - interval '3 hours'")
    path = project.job(source={"num_partitions": 4})
    first = run_job(project, spark, path).tables[0]
    assert first.read["num_partitions"] == 4 and "predicates" not in first.read  # strides
    # 1,500 changed rows at both ends of the key range: equal strides over [1, 20000] would
    # give 1,000, 0, 0 and 500 rows
    project.sql(
        "UPDATE usage_records SET amount = amount + 1, updated_at = now() "
        "WHERE usage_id <= 1000 OR usage_id > 19500"
    )

    again = run_job(project, spark, path).tables[0]

    assert again.window is not None and again.window.kind == "incremental"
    assert again.read["num_partitions"] == 4
    assert _rows_per_partition(project, again.read) == [375, 375, 375, 375]
    assert again.rows_read == 1500
    assert versions(project) == source_versions(project)  # merged: the lake is the source
