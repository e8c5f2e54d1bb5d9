"""``ingest maintain``: small files compacted, old snapshots expired and orphan files removed,
the table's data intact, against the SQLite and the PostgreSQL catalog, and safe beside an
ingestion."""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from ingestion.config import maintenance
from ingestion.job import lake, maintain
from reconciler import health
from tests.ingestion.job.conftest import USAGE_DDL, Project, seed_usage
from tests.ingestion.job.helpers import run_job, source_versions, versions, watermark

pytestmark = pytest.mark.integration
TABLE = "bss_raw.usage_records"
TWO_HOURS_AGO = time.time() - 7200


def _three_runs(project: Project, spark: Any) -> None:
    project.sql(USAGE_DDL)
    seed_usage(project, 1, 100)
    path = project.job()
    for first in (101, 201):
        run_job(project, spark, path)
        seed_usage(project, first, first + 99, "now()")
        project.sql("UPDATE usage_records SET updated_at = now() WHERE usage_id % 10 = 0")
    run_job(project, spark, path)


def _table_dir(project: Project) -> Path:
    return Path(lake.filesystem(project.catalog().load_table(TABLE).location())[1])


def _age_every_file(directory: Path) -> None:
    for path in directory.rglob("*"):
        if path.is_file():
            os.utime(path, (TWO_HOURS_AGO, TWO_HOURS_AGO))


def _plant(path: Path, mtime: float | None = TWO_HOURS_AGO) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"left behind by a killed commit")
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def _referenced_files_exist(project: Project) -> None:
    table = project.catalog().load_table(TABLE)
    missing = [p for p in maintain.referenced(table) if not Path(p).exists()]
    assert missing == []


@pytest.mark.parametrize("catalog", ["sqlite", "postgresql"])
def test_maintain_compacts_expires_and_removes_orphans_only(
    project: Project, spark: Any, catalog: str
) -> None:
    if catalog == "postgresql":
        project.use_postgres_catalog()
    _three_runs(project, spark)
    before = project.catalog().load_table(TABLE)
    assert len(before.snapshots()) >= 3
    small = len(before.inspect.files())
    mark = watermark(project)
    root = _table_dir(project)
    _age_every_file(root)
    old_manifest = _plant(root / "metadata" / "0-killed-commit-m0.avro")
    old_data = _plant(root / "data" / "salam-run-killed" / "part-0.parquet")
    young = _plant(root / "metadata" / "1-commit-in-flight-m0.avro", mtime=None)

    done = project.ingest(
        "maintain", "--env", "test", "--retention", "0s", "--grace", "1h", "--json"
    )

    assert done.returncode == 0, done.stderr
    (report,) = json.loads(done.stdout)["tables"]
    assert report["table"] == TABLE and report["problems"] == []
    assert report["files_compacted"] == small > 1 and report["files_written"] == 1
    # every snapshot before the compaction's own is older than a retention of 0s
    assert report["snapshots_expired"] == len(before.snapshots())
    assert report["snapshots_kept"] == 1
    # the planted two, the compacted files and the expired snapshots' manifest lists
    assert report["orphan_files_removed"] >= 2 + small
    assert not old_manifest.exists() and not old_data.exists() and young.exists()
    _referenced_files_exist(project)
    after = project.catalog().load_table(TABLE)
    assert len(after.inspect.files()) == 1
    assert after.properties[lake.LAST_RUN_ID] == before.properties[lake.LAST_RUN_ID]
    assert watermark(project) == mark
    ended = [e for e in project.events() if e["job"]["name"] == f"maintain.{TABLE}"]
    assert [e["eventType"] for e in ended] == ["START", "COMPLETE"]  # valid OpenLineage events
    assert ended[1]["run"]["facets"]["salam"]["files_compacted"] == small
    command = [e for e in project.events() if e["job"]["name"] == maintenance.NAME]
    assert [e["eventType"] for e in command] == ["START", "COMPLETE"]  # the whole command's run
    parent = ended[1]["run"]["facets"]["parent"]
    assert parent["run"]["runId"] == command[1]["run"]["runId"]
    assert parent["job"]["name"] == maintenance.NAME
    events_file = project.root / ".salam" / "events" / "test.jsonl"
    last = health.last_runs(events_file, "test")[maintenance.NAME]  # what reconcile status shows
    assert last.outcome == "succeeded" and last.run_id == command[1]["run"]["runId"]
    assert versions(project) == source_versions(project)  # the data is the source's still
    seed_usage(project, 301, 310, "now()")
    assert run_job(project, spark).tables[0].rows_written == 10  # and the next run commits


def test_an_expiry_read_before_a_commit_keeps_that_commit_and_its_parent(
    project: Project, spark: Any
) -> None:
    _three_runs(project, spark)
    stale = project.catalog().load_table(TABLE)  # maintenance reads the table, then a run commits
    parent, listed = stale.current_snapshot(), len(stale.snapshots())
    seed_usage(project, 301, 310, "now()")
    run_job(project, spark)
    head = project.catalog().load_table(TABLE).current_snapshot()

    assert maintain.expire(stale, datetime.now(UTC)) == listed - 1

    table = project.catalog().load_table(TABLE)
    kept = {snapshot.snapshot_id for snapshot in table.snapshots()}
    assert parent is not None and head is not None
    assert kept == {parent.snapshot_id, head.snapshot_id}
    assert table.current_snapshot().snapshot_id == head.snapshot_id
    assert versions(project) == source_versions(project)
    _referenced_files_exist(project)


def test_a_compaction_read_before_a_commit_is_refused_and_leaves_nothing(
    project: Project, spark: Any
) -> None:
    _three_runs(project, spark)
    stale = project.catalog().load_table(TABLE)  # maintenance reads the table, then a run commits
    seed_usage(project, 301, 310, "now()")
    run_job(project, spark)
    head = project.catalog().load_table(TABLE).current_snapshot()

    done = maintain.maintain(stale, maintain.Steps(datetime.now(UTC), grace=timedelta(hours=1)))

    assert done.files_compacted == 0 and "the catalog refused the compaction" in done.problems[0]
    assert project.catalog().load_table(TABLE).current_snapshot() == head
    assert not list((_table_dir(project) / "data").glob(f"{maintain.COMPACT_DIR_PREFIX}*/*"))
    assert versions(project) == source_versions(project)
    again = maintain.maintain(stale, maintain.Steps(datetime.now(UTC), grace=timedelta(hours=1)))
    assert again.problems == [] and again.files_compacted > 1  # the next attempt compacts
    assert versions(project) == source_versions(project)


def test_files_of_a_running_job_are_kept_whatever_their_age(project: Project, spark: Any) -> None:
    _three_runs(project, spark)
    table = project.catalog().load_table(TABLE)
    staged = _plant(_table_dir(project) / "data" / "salam-run-running" / "part-0.parquet")
    later = datetime.now(UTC)

    with lake.claim(table, "running"):
        kept = maintain.maintain(table, maintain.Steps(later, grace=timedelta(hours=1)))
    assert staged.exists() and kept.files_removed == 0

    removed = maintain.maintain(table, maintain.Steps(later, grace=timedelta(hours=1)))
    assert not staged.exists() and removed.files_removed == 1
    _referenced_files_exist(project)


def test_maintain_refuses_a_table_no_job_writes_and_a_bad_duration(project: Project) -> None:
    project.job()

    unknown = project.ingest("maintain", "--env", "test", "--table", "bss_raw.nope")
    bad = project.ingest("maintain", "--env", "test", "--retention", "a week")

    assert unknown.returncode == 2
    assert (
        "no job of test writes bss_raw.nope (its tables: bss_raw.usage_records)" in unknown.stderr
    )
    assert bad.returncode == 2 and "not a duration: 'a week'" in bad.stderr


def test_a_run_after_an_expiry_keeps_the_files_retained_snapshots_read(
    project: Project, spark: Any
) -> None:
    project.sql(USAGE_DDL)
    seed_usage(project, 1, 100)
    path = project.job()
    run_job(project, spark, path)  # two files: keys 1-50 and 51-100
    for key in (5, 60):  # each merge rewrites one of them
        project.sql(f"UPDATE usage_records SET updated_at = now() WHERE usage_id = {key}")
        run_job(project, spark, path)
    table = project.catalog().load_table(TABLE)
    first, second, _ = sorted(table.snapshots(), key=lambda s: s.timestamp_ms)
    when = datetime.fromtimestamp(second.timestamp_ms / 1000, UTC)

    assert maintain.expire(table, when) == 1  # the first run's snapshot goes, its run id too
    seed_usage(project, 101, 110, "now()")
    run_job(project, spark, path)  # removes the directories of runs that never committed

    kept = {s.snapshot_id for s in project.catalog().load_table(TABLE).snapshots()}
    assert first.snapshot_id not in kept and second.snapshot_id in kept
    _referenced_files_exist(project)  # the second snapshot still reads the first run's 51-100


def test_compaction_keeps_the_rows_of_files_written_before_a_column_was_added(
    tmp_path: Path,
) -> None:
    from pyiceberg.catalog.sql import SqlCatalog

    catalog = SqlCatalog("t", uri=f"sqlite:///{tmp_path}/c.db", warehouse=f"file://{tmp_path}/w")
    catalog.create_namespace("ns")
    before = pa.table({"id": pa.array([1, 2], pa.int64()), "name": ["a", "b"]})
    table = catalog.create_table("ns.t", schema=before.schema, properties=lake.NO_REBASE)
    table.append(before)
    after = before.append_column("plan", pa.array(["gold", None])).set_column(
        0, "id", pa.array([3, 4], pa.int64())
    )
    with table.update_schema() as update:
        update.union_by_name(after.schema)
    table.append(after)

    assert maintain.compact(table, target=64 * 1024 * 1024) == (2, 1)

    table = catalog.load_table("ns.t")
    assert len(table.inspect.files()) == 1
    rows = sorted(table.scan().to_arrow().to_pylist(), key=lambda row: row["id"])
    assert rows == [
        {"id": 1, "name": "a", "plan": None},
        {"id": 2, "name": "b", "plan": None},
        {"id": 3, "name": "a", "plan": "gold"},
        {"id": 4, "name": "b", "plan": None},
    ]


@pytest.mark.parametrize("catalog", ["sqlite", "postgresql"])
def test_maintenance_beside_a_running_ingestion_loses_nothing(
    project: Project, spark: Any, catalog: str
) -> None:
    if catalog == "postgresql":
        project.use_postgres_catalog()
    _three_runs(project, spark)
    seed_usage(project, 1001, 60000, "now()")
    path = project.job()
    _age_every_file(_table_dir(project))
    steps = maintain.Steps(datetime.now(UTC), retention=timedelta(0), grace=timedelta(hours=1))

    data = _table_dir(project) / "data"
    committed = set(data.glob(f"{lake.RUN_DIR_PREFIX}*"))

    running = project.start_ingest("--config", str(path))  # its own process and JVM
    while running.poll() is None and not set(data.glob(f"{lake.RUN_DIR_PREFIX}*")) - committed:
        time.sleep(0.05)  # until it has read the table and writes its files
    passes, overlapped = [], 0
    while running.poll() is None and len(passes) < 200:
        passes.append(maintain.maintain(project.catalog().load_table(TABLE), steps))
        overlapped += running.poll() is None
        time.sleep(0.2)
    code = running.wait(timeout=240)
    log = (project.root / "ingest.log").read_text()

    assert overlapped >= 1 and passes[0].files_compacted > 1  # compacted under the running job
    # each side either commits or is refused (a transient exit, retried): nothing is lost
    assert code == 75 and "refused" in log, log  # the run started from the old head
    assert all(p.problems == [] or "refused" in p.problems[0] for p in passes)
    retried = project.ingest("--config", str(path))  # what a retry does: it commits
    assert retried.returncode == 0, retried.stderr
    assert versions(project) == source_versions(project)
    _referenced_files_exist(project)
    after = maintain.maintain(project.catalog().load_table(TABLE), steps)
    assert after.problems == [] and versions(project) == source_versions(project)
