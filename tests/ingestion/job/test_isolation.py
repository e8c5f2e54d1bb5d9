"""Secrets and isolation of one run: the lake catalog's password by reference (a real PostgreSQL
catalog), one broken job file beside a good one, a refused password said as such, and a dry run
that shows the partitioning the run uses."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from ingestion.job import command, lake
from ingestion.job.errors import JobError, RunExit
from tests.ingestion.job.conftest import ENVIRONMENT, PASSWORD, USAGE_DDL, Project, seed_usage
from tests.ingestion.job.helpers import run_job

pytestmark = pytest.mark.integration

CATALOG_PASSWORD = "lake-Catalog-pw-7731"


def postgres_catalog(project: Project) -> dict[str, Any]:
    """A catalog database and its own role on the test PostgreSQL; environment.yaml uses it,
    the password by reference (``env:SALAM_TEST_CATALOG_PASSWORD``)."""
    role = f"lake_{project.dbname}"
    with project.pg.connect() as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{CATALOG_PASSWORD}'")
        conn.execute(f"CREATE DATABASE {role} OWNER {role}")
    uri = f"postgresql+psycopg://127.0.0.1:{project.pg.port}/{role}"
    catalog = {"name": "salam", "type": "sql", "uri": uri, "user": role}
    settings = {**ENVIRONMENT, "lake": {**ENVIRONMENT["lake"], "catalog": catalog}}
    settings["lake"]["catalog"]["password_ref"] = "env:SALAM_TEST_CATALOG_PASSWORD"
    path = project.root / "environments" / "test" / "environment.yaml"
    path.write_text(yaml.safe_dump(settings))
    return settings


def test_a_job_commits_through_a_postgres_catalog_whose_password_is_a_reference(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = postgres_catalog(project)
    project.sql(USAGE_DDL)
    seed_usage(project, 1, 120)
    path = project.job()
    secret = {"SALAM_TEST_CATALOG_PASSWORD": CATALOG_PASSWORD}

    done = project.ingest("--config", str(path), "--run-id", "pg-cat-1", env=secret)
    dry = project.ingest("--config", str(path), "--dry-run", "--json", env=secret)
    plan = project.ingest("plan", "--config", str(path), env=secret)

    assert done.returncode == 0, done.stderr[-2000:]
    assert "usage_records -> bss_raw.usage_records: committed" in done.stdout
    monkeypatch.setenv("SALAM_TEST_CATALOG_PASSWORD", CATALOG_PASSWORD)
    table = lake.open_catalog(settings, project.root).load_table("bss_raw.usage_records")
    assert table.scan().to_arrow().num_rows == 120
    assert table.current_snapshot().summary.additional_properties[lake.RUN_ID] == "pg-cat-1"
    assert dry.returncode == 0 and plan.returncode == 0, dry.stderr + plan.stderr
    events = (project.root / ".salam" / "events" / "test.jsonl").read_text()
    for run in (done, dry, plan):
        for blob in (run.stdout, run.stderr, events):
            assert CATALOG_PASSWORD not in blob and PASSWORD not in blob


def test_a_wrong_catalog_password_is_said_and_never_shown(
    project: Project, spark: Any, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    postgres_catalog(project)
    monkeypatch.setenv("SALAM_TEST_CATALOG_PASSWORD", "not-the-Catalog-pw-55")

    with pytest.raises(JobError) as failure:
        run_job(project, spark)

    error = failure.value
    assert error.code == RunExit.INVALID and error.stage == "lake"
    assert "refused the user name or password" in error.message
    assert "lake.catalog.user / lake.catalog.password_ref" in error.hint
    shown = error.render() + json.dumps(project.events()) + "".join(capfd.readouterr())
    assert "not-the-Catalog-pw-55" not in shown and CATALOG_PASSWORD not in shown


def test_a_wrong_database_password_exits_3_saying_so(project: Project) -> None:
    project.sql(USAGE_DDL)
    path = project.job()

    run = project.ingest("--config", str(path), env={"SALAM_TEST_PG_PASSWORD": "wrong-Pg-pw-913"})

    assert run.returncode == 3, run.stderr[-2000:]
    assert "refused the user name or password" in run.stderr
    assert 'password authentication failed for user "postgres"' in run.stderr
    assert "hint: check source.user / source.password_ref" in run.stderr
    assert "table and column names" not in run.stderr
    events = (project.root / ".salam" / "events" / "test.jsonl").read_text()
    assert json.loads(events.splitlines()[-1])["run"]["facets"]["salam"]["error"]["exit_code"] == 3
    assert "wrong-Pg-pw-913" not in run.stdout + run.stderr + events


def test_a_broken_job_file_does_not_stop_another_jobs_run(project: Project) -> None:
    project.sql(USAGE_DDL)
    seed_usage(project, 1, 30)
    good = project.job("good")
    bad = project.job("bad", target={"namespace": "bss_bad"})
    bad.write_text(
        bad.read_text().replace("  namespace: bss_bad", "  namespace: bss_bad\n  tables: 7")
    )
    line = bad.read_text().splitlines().index("  tables: 7") + 1

    runs = project.ingest("--config", str(good)), project.ingest("--config", str(bad))

    assert runs[0].returncode == 0, runs[0].stderr[-2000:]
    assert "usage_records -> bss_raw.usage_records: committed" in runs[0].stdout
    assert runs[1].returncode == 3
    assert f"environments/test/jobs/bad.yaml:{line}:3: error[unknown-key]" in runs[1].stderr
    assert "good.yaml" not in runs[1].stderr


def test_dry_run_shows_the_partitioning_the_run_uses(project: Project, spark: Any) -> None:
    project.sql(USAGE_DDL)
    seed_usage(project, 1, 1000)
    path = project.job(source={"num_partitions": 4})

    dry = run_job(project, spark, path, dry_run=True)
    done = run_job(project, spark, path)

    planned, read = dry.tables[0].read, done.tables[0].read
    assert read["num_partitions"] == 4 and read["partition_column"] == "usage_id"
    assert {k: v for k, v in planned.items() if k != "sql"} == {
        k: v for k, v in read.items() if k != "sql"
    }
    assert read["bounds"] == ["1", "1000"]
    shown = command.render(dry, command.RunOptions(dry_run=True))
    assert '"num_partitions": 4' in shown and '"bounds": ["1", "1000"]' in shown


def test_missing_catalog_uri_host_for_a_password_is_a_config_error(tmp_path: Path) -> None:
    catalog = {"name": "c", "type": "sql", "uri": "sqlite:///x.db", "password_ref": "env:NOPE_X"}
    settings = {"lake": {"catalog": catalog, "warehouse": "file://w"}}
    with pytest.raises(JobError) as failure:
        lake.open_catalog(settings, tmp_path)
    assert failure.value.code == RunExit.INVALID and "env:NOPE_X" in failure.value.message
