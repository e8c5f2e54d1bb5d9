"""No silent loss: rows a cursor window cannot see are counted and reported, or fail the run."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from ingestion.job import completeness, dialects
from ingestion.job.errors import JobError
from ingestion.job.source import TableSpec
from tests.ingestion.job.conftest import USAGE_DDL, Project, seed_usage
from tests.ingestion.job.helpers import run_job, watermark

pytestmark = pytest.mark.integration

LATE = "INSERT INTO usage_records VALUES (500, 'x', now(), 1, now() - interval '3 hours')"


def _job(project: Project, disposition: str = "merge", **completeness_config: Any) -> Any:
    load = {
        "mode": "incremental",
        "cursor_column": "updated_at",
        "lookback": "1h",
        "write_disposition": disposition,
        "deletes": "detect",
    }
    if completeness_config:
        load["completeness"] = completeness_config
    return project.job(load=load)


def test_a_late_row_below_the_lookback_is_reported_in_json_and_metrics(
    project: Project, spark: Any
) -> None:
    project.sql(USAGE_DDL)
    seed_usage(project, 1, 10, "now() - interval '3 hours'")
    path = _job(project)
    run_job(project, spark, path)
    project.sql(LATE)  # arrives after the run, stamped older than the 1h lookback
    metrics = project.root / "metrics" / "salam.prom"

    done = project.ingest("--config", str(path), "--json", "--metrics-file", str(metrics))

    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)  # one document: the event trace went to stderr
    found = summary["tables"][0]["completeness"]
    assert found["status"] == "checked"
    assert found["below_window"] == {"source": 11, "lake": 10, "missing": 1}
    assert found["missing_rows"] == 1
    events = [e for e in project.events() if e["eventType"] == "COMPLETE"]
    facet = json.dumps(events[-1])
    assert '"missing_rows": 1' in facet
    samples = {
        (s.name, s.labels.get("kind")): s.value
        for family in text_string_to_metric_families(metrics.read_text())
        for s in family.samples
    }
    assert samples[("salam_ingestion_missing_rows", "below_window")] == 1
    assert samples[("salam_ingestion_missing_rows", "null_cursor")] == 0
    assert samples[("salam_ingestion_completeness_check_timestamp_seconds", None)] > 0


@pytest.mark.parametrize("disposition", ["merge", "append"])
def test_updates_and_deletes_leave_nothing_missing(
    project: Project, spark: Any, disposition: str
) -> None:
    # the lake's live version of a key is counted: an append table's history and tombstones
    # (deletes: detect) count like a merge table's current rows
    project.sql(USAGE_DDL)
    seed_usage(project, 1, 10, "now() - interval '3 hours'")
    path = _job(project, disposition)
    run_job(project, spark, path)
    seed_usage(project, 11, 15, "now()")
    project.sql("UPDATE usage_records SET updated_at = now() WHERE usage_id <= 3")
    project.sql("DELETE FROM usage_records WHERE usage_id = 4")

    result = run_job(project, spark, path)

    found = result.tables[0].completeness
    assert found is not None and found["status"] == "checked"
    assert found["below_window"] == {"source": 6, "lake": 6, "missing": 0}
    assert found["missing_rows"] == 0


def test_null_cursor_rows_after_the_first_load_are_reported(project: Project, spark: Any) -> None:
    project.sql(USAGE_DDL)
    project.sql("ALTER TABLE usage_records ALTER COLUMN updated_at DROP NOT NULL")
    seed_usage(project, 1, 5, "now() - interval '3 hours'")
    seed_usage(project, 6, 6, "NULL")  # read by the first load
    run_job(project, spark)
    seed_usage(project, 7, 8, "NULL")  # never in any window

    result = run_job(project, spark)

    found = result.tables[0].completeness
    assert found is not None
    assert found["null_cursor"] == {"source": 3, "lake": 1, "missing": 2}
    assert found["missing_rows"] == 2


def test_a_threshold_breach_fails_the_run_and_commits_nothing(project: Project, spark: Any) -> None:
    project.sql(USAGE_DDL)
    seed_usage(project, 1, 10, "now() - interval '3 hours'")
    path = _job(project, max_missing_rows=0)
    run_job(project, spark, path)
    table = project.catalog().load_table("bss_raw.usage_records")
    snapshot, mark = table.current_snapshot().snapshot_id, watermark(project)
    project.sql(LATE)
    seed_usage(project, 11, 12, "now()")

    done = project.ingest("--config", str(path))

    assert done.returncode == 1
    assert "[completeness]" in done.stderr
    assert "usage_records is missing 1 rows" in done.stderr
    assert "load.completeness.max_missing_rows is 0" in done.stderr
    table = project.catalog().load_table("bss_raw.usage_records")
    assert table.current_snapshot().snapshot_id == snapshot
    assert watermark(project) == mark


def test_every_runs_skips_the_check_on_alternate_runs(project: Project, spark: Any) -> None:
    project.sql(USAGE_DDL)
    seed_usage(project, 1, 10, "now() - interval '3 hours'")
    path = _job(project, every_runs=2)
    run_job(project, spark, path)  # 1 committed run
    project.sql(LATE)

    skipped = run_job(project, spark, path).tables[0].completeness  # 1 % 2: skipped
    checked = run_job(project, spark, path).tables[0].completeness  # 2 % 2: checked

    assert skipped is not None and skipped["status"] == "skipped"
    assert "every 2 committed runs" in skipped["reason"]
    assert checked is not None and checked["status"] == "checked"
    assert checked["missing_rows"] == 1


def test_the_count_queries_can_use_an_index_on_the_cursor(project: Project) -> None:
    project.sql(USAGE_DDL)
    seed_usage(project, 1, 2000, "now() - interval '3 hours'")
    project.sql("CREATE INDEX usage_updated ON usage_records (updated_at)")
    project.sql("ANALYZE usage_records")
    spec = TableSpec(
        "usage_records", "usage_records", "usage_records", ("usage_id",), "updated_at",
        None, None, (), None,
    )  # fmt: skip
    src: Any = type("Src", (), {"dialect": dialects.DIALECTS["postgresql"]})()
    lo = datetime.now(UTC) - timedelta(days=1)
    with project.pg.connect(project.dbname) as conn:
        conn.execute("SET enable_seqscan = off")
        for kind in completeness.KINDS:
            sql = completeness.count_sql(spec, src, kind, lo)
            plan = "\n".join(r[0] for r in conn.execute(f"EXPLAIN {sql}").fetchall())
            assert "usage_updated" in plan, plan


def test_enforce_names_the_counts_and_the_setting() -> None:
    found = {
        "status": "checked",
        "below_window": {"source": 5, "lake": 3, "missing": 2},
        "null_cursor": {"source": 0, "lake": 0, "missing": 0},
        "missing_rows": 2,
    }
    with pytest.raises(JobError) as caught:
        completeness.enforce(found, "usage_records", completeness.Settings(1, 1))
    assert "source 5, lake 3" in caught.value.message
    completeness.enforce(found, "usage_records", completeness.Settings(1, 2))  # within the limit
