"""OpenLineage that a consumer accepts: every event validates against the official 2-0-2
schemas (``project.events()`` checks them all), each run is START then exactly one terminal
event, failures before the first byte is read are START + FAIL, a committed run id re-run sends
nothing, datasets are named by the spec's conventions, and ``ingest run --json`` prints one JSON
document on stdout while its events still reach the event stream (stderr)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
import yaml

from ingestion.job.errors import JobError, RunExit
from ingestion.shared import lineage
from reconciler import health
from tests import openlineage
from tests.ingestion.job.conftest import ENVIRONMENT, USAGE_DDL, Project, seed_usage
from tests.ingestion.job.helpers import run_job
from tests.ingestion.job.pgserver import free_port

pytestmark = pytest.mark.integration


def test_runs_start_once_and_end_once_and_a_committed_run_id_sends_nothing(
    project: Project, spark: Any
) -> None:
    project.sql(USAGE_DDL)
    seed_usage(project, 1, 20)
    first = run_job(project, spark)  # no run id given: a UUIDv7, also the OpenLineage run id
    again = run_job(project, spark, run_id=first.run_id)
    manual = run_job(project, spark, run_id="manual-1")
    path = project.job(source={"jdbc_url": project.url.replace(project.dbname, "missing_db")})
    with pytest.raises(JobError):
        run_job(project, spark, path)

    found = project.events()
    runs = openlineage.check_lifecycle(found)
    assert list(runs.values()) == [["START", "COMPLETE"]] * 2 + [["START", "FAIL"]]
    assert uuid.UUID(first.run_id).version == 7 and first.lineage_run_id == first.run_id
    assert again.tables[0].status == "already committed" and first.run_id in runs
    assert manual.lineage_run_id in runs and lineage.is_uuid(manual.lineage_run_id)
    by_run = {e["run"]["runId"]: e for e in found if e["eventType"] == "COMPLETE"}
    assert by_run[manual.lineage_run_id]["run"]["facets"]["salam"]["run_id"] == "manual-1"
    complete = by_run[first.run_id]
    assert complete["inputs"] == [
        {
            "namespace": f"postgres://127.0.0.1:{project.pg.port}",
            "name": f"{project.dbname}.public.usage_records",
            "facets": {},
        }
    ]
    (output,) = complete["outputs"]
    location = project.catalog().load_table("bss_raw.usage_records").location()
    assert (output["namespace"], output["name"]) == ("file", location.removeprefix("file://"))
    assert output["facets"]["salam"]["table"] == "bss_raw.usage_records"
    assert output["outputFacets"]["outputStatistics"]["rowCount"] == 20
    start = next(e for e in found if e["eventType"] == "START")
    assert (start["outputs"][0]["namespace"], start["outputs"][0]["name"]) == (
        output["namespace"],
        output["name"],
    )  # a table that did not exist yet is named where the catalog then put it
    # what the controller reads back from these events: rows and each table's latest watermark
    seen = health.ingested(project.root / ".salam" / "events" / "test.jsonl", "test")
    job = complete["job"]["name"]
    committed = [t.describe() for r in (first, manual) for t in r.tables if t.status == "committed"]
    assert seen.rows == {job: sum(t["rows_written"] for t in committed)} and seen.rows[job] >= 20
    latest = committed[-1]
    assert seen.watermarks == {job: {latest["target"]: latest["window"]["watermark_after"]}}


def test_a_catalog_that_is_down_is_start_then_fail(project: Project, spark: Any) -> None:
    settings = {**ENVIRONMENT, "lake": {**ENVIRONMENT["lake"]}}
    uri = f"postgresql+psycopg://127.0.0.1:{free_port()}/lake?connect_timeout=2"
    settings["lake"]["catalog"] = {"name": "salam", "type": "sql", "uri": uri}
    path = project.root / "environments" / "test" / "environment.yaml"
    path.write_text(yaml.safe_dump(settings))
    project.sql(USAGE_DDL)

    with pytest.raises(JobError) as failure:
        run_job(project, spark)

    assert failure.value.stage == "lake" and failure.value.code == RunExit.TRANSIENT
    found = project.events()
    assert list(openlineage.check_lifecycle(found).values()) == [["START", "FAIL"]]
    assert found[-1]["run"]["facets"]["salam"]["error"]["exit_code"] == 75


def test_ingest_run_json_prints_one_document_and_its_events_on_stderr(project: Project) -> None:
    project.sql(USAGE_DDL)
    seed_usage(project, 1, 30)
    path = project.job()
    workflow_run, lineage_run = str(uuid.uuid4()), lineage.uuid7()
    env = {
        "SALAM_RUN_ID": workflow_run,
        lineage.LINEAGE_RUN_ID_ENV: lineage_run,
        lineage.WORKFLOW_ID_ENV: "salam-test-bss",
        lineage.TEMPORAL_NAMESPACE_ENV: "ingestion-test",
    }

    done = project.ingest("--config", str(path), "--json", "--set", "events.sink=stdout", env=env)
    traced = project.ingest("--config", str(path), "--json", "--run-id", "traced-1")

    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout)  # the whole of stdout: one document
    assert summary["run_id"] == workflow_run and summary["lineage_run_id"] == lineage_run
    assert summary["tables"][0]["rows_written"] == 30
    lines = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    found = openlineage.validate_all(line for line in lines if "eventType" in line)
    assert openlineage.check_lifecycle(found) == {lineage_run: ["START", "COMPLETE"]}
    parent = found[0]["run"]["facets"]["parent"]
    assert parent["run"]["runId"] == workflow_run
    assert parent["job"] == {"namespace": "temporal/ingestion-test", "name": "salam-test-bss"}
    assert found[1]["run"]["facets"]["salam"]["run_id"] == workflow_run
    assert traced.returncode == 0, traced.stderr[-3000:]
    assert json.loads(traced.stdout)["run_id"] == "traced-1"
    traces = [
        json.loads(line) for line in traced.stderr.splitlines() if line.startswith('{"event"')
    ]
    assert [t["event"] for t in traces] == ["START", "COMPLETE"]
    assert project.events()[-1]["run"]["runId"] == traces[-1]["runId"]


def test_ingest_run_json_prints_one_document_when_the_run_fails(project: Project) -> None:
    path = project.job(source={"password_ref": "env:SALAM_TEST_UNSET_PASSWORD"})

    failed = project.ingest("--config", str(path), "--json")
    broken = project.ingest("--config", str(path), "--json", "--set", "lake=7")

    assert failed.returncode == 3, failed.stderr[-3000:]
    document = json.loads(failed.stdout)  # the whole of stdout: one document
    assert document["ok"] is False and document["exit_code"] == 3
    assert document["error"]["stage"] == "credentials"
    traces = [json.loads(line) for line in failed.stderr.splitlines() if line.startswith("{")]
    assert [t["event"] for t in traces] == ["START", "FAIL"]
    assert broken.returncode == 3, broken.stderr[-3000:]
    assert json.loads(broken.stdout)["diagnostics"]
