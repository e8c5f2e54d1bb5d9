"""The generated maintenance job: off unless ``maintenance:`` is set; then one job ``maintain``
that runs ``ingest maintain --env E`` with the section's limits on the environment's scheduler,
checked without a source (and without the ingestion defaults), rendered to a plan whose command
really maintains the lake; bad settings are located in environment.yaml."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from ingestion.config import loader, maintenance
from ingestion.plan import render

REPO = Path(__file__).resolve().parents[3]


def test_no_maintenance_job_unless_set(project: Callable[..., Path]) -> None:
    root = project("dev")
    names = [job.name for job in loader.load_environment(root, "dev").jobs]
    assert maintenance.NAME not in names


def test_the_maintenance_job_runs_ingest_maintain_on_the_environments_scheduler(
    project: Callable[..., Path],
) -> None:
    root = project("dev")
    settings = ["maintenance.mode=plain_cron", "maintenance.cron=15 2 * * *"]
    environment = loader.load_environment(root, "dev", [*settings, "maintenance.retention=3d"])
    job = environment.job(maintenance.NAME)
    assert (job.mode.value, job.path) == ("plain_cron", "environments/dev/jobs/maintain.yaml")
    assert "source" not in job.data and "load" not in job.data  # not an ingestion
    assert job.data["owner"] == "bss-data-platform"  # the other defaults are merged under it

    plan = render.render(job, environment)

    command = ["ingest", "maintain", "--env", "dev", "--retention", "3d"]
    assert plan["execution_command"] == command
    assert plan["crontab_line"].startswith("15 2 * * *")
    assert "ingest maintain --env dev --retention 3d" in plan["crontab_line"]
    assert "spark" not in plan  # no spark-submit
    temporal = loader.load_environment(root, "dev", ["maintenance.target_mib=64"])
    plan = render.render(temporal.job(maintenance.NAME), temporal)  # dev has a Temporal cluster
    assert plan["mode"] == "temporal" and plan["schedule"]["cron"] == maintenance.DEFAULT_CRON
    assert plan["execution_command"][-2:] == ["--target-mib", "64"]


def test_the_plans_command_maintains_the_environments_lake(project: Callable[..., Path]) -> None:
    root = project("dev")
    environment = loader.load_environment(root, "dev", ["maintenance.grace=2h"])
    argv = render.render(environment.job(maintenance.NAME), environment)["execution_command"]
    assert argv[0] == "ingest"
    settings = root / "environments/dev/environment.yaml"
    settings.write_text(settings.read_text() + "maintenance:\n  grace: 2h\n")

    done = subprocess.run(
        [sys.executable, "-m", "ingestion", *argv[1:], "--json"],
        cwd=root,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    reported = json.loads(done.stdout)["tables"]  # the tables of the environment's jobs
    written = {job.data["target"]["namespace"] for job in environment.jobs if "target" in job.data}
    assert reported and {t["table"].rsplit(".", 1)[0] for t in reported} <= written
    assert all(t["skipped"] == "not in the catalog yet (no run)" for t in reported)


@pytest.mark.parametrize(
    ("setting", "said"),
    [
        ("retention: soon", "maintenance.retention"),
        ("target_mib: 0", "maintenance.target_mib"),
        ("mode: airflow", "one of: temporal, plain_cron, kubernetes"),
        ("retain: 7d", "allowed keys: cron, grace, mode, retention, target_mib"),
    ],
)
def test_bad_maintenance_settings_are_refused_where_they_are(
    project: Callable[..., Path], setting: str, said: str
) -> None:
    root = project("dev")
    settings = root / "environments/dev/environment.yaml"
    lines = settings.read_text().count("\n")
    settings.write_text(settings.read_text() + f"maintenance:\n  {setting}\n")
    with pytest.raises(loader.InvalidEnvironment) as raised:
        loader.load_environment(root, "dev")
    (problem,) = raised.value.diagnostics
    assert problem.render().startswith(f"environments/dev/environment.yaml:{lines + 2}:")
    assert said in problem.render()
