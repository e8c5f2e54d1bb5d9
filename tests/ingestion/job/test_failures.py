"""Schema evolution and breaks, transient vs terminal failures, credentials, secret-free events."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ingestion.job.errors import JobError, RunExit
from tests.ingestion.job.conftest import PASSWORD, USAGE_DDL, Project, seed_usage
from tests.ingestion.job.helpers import run_job, watermark
from tests.ingestion.job.pgserver import free_port

pytestmark = pytest.mark.integration


def test_added_column_evolves_the_table(project: Project, spark: Any) -> None:
    project.sql(USAGE_DDL)
    seed_usage(project, 1, 10)
    run_job(project, spark)
    project.sql("ALTER TABLE usage_records ADD COLUMN roaming boolean")
    project.sql("UPDATE usage_records SET roaming = true, updated_at = now() WHERE usage_id = 3")

    result = run_job(project, spark)

    assert result.tables[0].added_columns == ["roaming"]
    rows = project.catalog().load_table("bss_raw.usage_records").scan().to_arrow().to_pylist()
    assert {r["usage_id"]: r["roaming"] for r in rows} == {
        i: (True if i == 3 else None) for i in range(1, 11)
    }


def test_type_change_fails_naming_the_column_and_commits_nothing(
    project: Project, spark: Any
) -> None:
    project.sql(USAGE_DDL)
    seed_usage(project, 1, 10)
    run_job(project, spark)
    before = watermark(project)
    project.sql("ALTER TABLE usage_records ALTER COLUMN amount TYPE text")
    project.sql("UPDATE usage_records SET updated_at = now()")

    with pytest.raises(JobError) as failure:
        run_job(project, spark)

    error = failure.value
    assert error.code == RunExit.FAILED and error.stage == "load"
    assert (
        "'amount'" in error.message
        and "decimal(14, 4)" in error.message
        and "string" in error.message
    )
    table = project.catalog().load_table("bss_raw.usage_records")
    assert len(table.snapshots()) == 1 and watermark(project) == before
    assert project.events()[-1]["eventType"] == "FAIL"


def test_source_down_is_transient(project: Project, spark: Any) -> None:
    url = f"jdbc:postgresql://127.0.0.1:{free_port()}/nowhere?connectTimeout=2"
    path = project.job(source={"jdbc_url": url})

    with pytest.raises(JobError) as failure:
        run_job(project, spark, path)

    assert failure.value.code == RunExit.TRANSIENT
    fail = project.events()[-1]
    assert fail["eventType"] == "FAIL"
    assert fail["run"]["facets"]["salam"]["error"]["exit_code"] == 75


def test_bad_table_name_is_terminal(project: Project, spark: Any) -> None:
    path = project.job(tables=[{"name": "no_such_table", "primary_key": ["id"]}])

    with pytest.raises(JobError) as failure:
        run_job(project, spark, path)

    assert failure.value.code == RunExit.FAILED
    assert failure.value.stage == "extract"
    assert "no_such_table" in failure.value.message


def test_missing_credential_names_the_reference(
    project: Project, spark: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SALAM_TEST_PG_PASSWORD")

    with pytest.raises(JobError) as failure:
        run_job(project, spark)

    assert failure.value.code == RunExit.INVALID
    assert "env:SALAM_TEST_PG_PASSWORD" in failure.value.message
    # the events sink is there before the credentials: START then FAIL (OpenLineage lifecycle)
    found = project.events()
    assert [e["eventType"] for e in found] == ["START", "FAIL"]
    assert found[1]["run"]["facets"]["salam"]["error"]["stage"] == "credentials"
    assert "env:SALAM_TEST_PG_PASSWORD" in found[1]["run"]["facets"]["errorMessage"]["message"]


def test_vault_reference_is_a_clear_terminal_error(project: Project, spark: Any) -> None:
    path = project.job(source={"password_ref": "vault:secret/data/bss#password"})

    with pytest.raises(JobError) as failure:
        run_job(project, spark, path)

    assert failure.value.code == RunExit.INVALID
    assert "vault provider is not reachable" in failure.value.message


def test_events_follow_openlineage_and_carry_no_secret(
    project: Project, spark: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    project.sql(USAGE_DDL)
    seed_usage(project, 1, 20)
    run_job(project, spark, run_id="evt-1")
    path = project.job(source={"jdbc_url": project.url.replace(project.dbname, "missing_db")})
    with pytest.raises(JobError):
        run_job(project, spark, path)

    found = project.events()
    assert [e["eventType"] for e in found] == ["START", "COMPLETE", "START", "FAIL"]
    complete = found[1]
    assert complete["run"]["facets"]["salam"]["run_id"] == "evt-1"
    assert complete["run"]["runId"] == found[0]["run"]["runId"] != found[2]["run"]["runId"]
    assert {k: complete["job"][k] for k in ("namespace", "name")} == {
        "namespace": "salam/test",
        "name": "bss",
    }
    stats = complete["outputs"][0]["outputFacets"]["outputStatistics"]
    assert stats["rowCount"] == 20 and stats["fileCount"] >= 1 and stats["size"] > 0
    table = complete["run"]["facets"]["salam"]["tables"][0]
    assert table["window"]["watermark_after"] and table["schema_hash"]
    text = (project.root / ".salam" / "events" / "test.jsonl").read_text()
    captured = capfd.readouterr()
    for blob in (text, captured.out, captured.err, json.dumps(found)):
        assert PASSWORD not in blob
