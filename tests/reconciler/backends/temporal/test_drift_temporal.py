"""Drift on a real Temporal dev server: an operator's pause is ``paused``, a hand cron edit
``modified`` (with the field), a deleted schedule ``missing``, a job gone from config
``orphan``, and someone else's schedule under a job's id ``foreign``; through the engine and
``reconcile drift``, as a scheduled check would run it."""

from __future__ import annotations

import json

import pytest
from temporalio.client import Schedule, ScheduleSpec

from reconciler import drift, engine
from reconciler.drift import Finding, Kind
from tests.conftest import run_reconcile
from tests.reconciler.backends.temporal.conftest import Project
from tests.reconciler.backends.temporal.server import write_job
from tests.reconciler.backends.temporal.test_backend import hand_edit

pytestmark = pytest.mark.integration


def options(project: Project) -> engine.ReconcileOptions:
    return engine.ReconcileOptions(
        root=project.root,
        env="dev",
        overrides=(f"temporal.address={project.server.address}",),
        backends=("temporal",),
    )


def apply(project: Project) -> None:
    with engine.prepare(options(project), for_apply=True) as current:
        assert engine.apply(current).status == "applied"


def findings(project: Project) -> list[Finding]:
    with engine.prepare(options(project)) as current:
        return drift.classify(current.change_set, current.live)


def schedule_cli(project: Project, *args: str) -> None:
    project.server.cli("schedule", *args, "-n", project.namespace)


@pytest.fixture
def applied(project: Project) -> Project:
    write_job(project.root, "dev", "orders")
    write_job(project.root, "dev", "customers", cron="0 4 * * *")
    apply(project)
    assert findings(project) == []
    return project


def test_operator_pause_is_paused(applied: Project) -> None:
    schedule_cli(
        applied, "toggle", "--pause", "--reason", "db maintenance",
        "--schedule-id", "salam-dev-orders",
    )  # fmt: skip
    (finding,) = findings(applied)
    assert (finding.kind, finding.key.name, finding.job) == (
        Kind.PAUSED,
        "salam-dev-orders",
        "orders",
    )
    assert finding.fields == ()


def test_hand_cron_edit_is_modified_with_the_field(applied: Project) -> None:
    def edit(schedule: Schedule) -> None:
        schedule.spec = ScheduleSpec(cron_expressions=["0 3 * * *"], time_zone_name="UTC")

    hand_edit(applied, "salam-dev-customers", edit)
    (finding,) = findings(applied)
    assert finding.kind is Kind.MODIFIED and finding.job == "customers"
    fields = {f.path: (f.before, f.after) for f in finding.fields}
    assert fields["calendar.cron"] == ("0 3 * * *", "0 4 * * *")


def test_deleted_schedule_is_missing_and_removed_job_is_orphan(applied: Project) -> None:
    schedule_cli(applied, "delete", "--schedule-id", "salam-dev-orders")
    (applied.root / "environments/dev/jobs/customers.json").unlink()
    kinds = {f.key.name: f.kind for f in findings(applied)}
    assert kinds == {"salam-dev-orders": Kind.MISSING, "salam-dev-customers": Kind.ORPHAN}


def test_someone_elses_schedule_under_a_jobs_id_is_foreign(project: Project) -> None:
    schedule_cli(
        project, "create", "--schedule-id", "salam-dev-orders", "--cron", "0 9 * * *",
        "--workflow-id", "x", "--task-queue", "theirs", "--type", "TheirWorkflow",
    )  # fmt: skip
    write_job(project.root, "dev", "orders")
    (finding,) = findings(project)
    assert (finding.kind, finding.key.name) == (Kind.FOREIGN, "salam-dev-orders")


def test_cli_exit_codes_and_an_accepted_pause(applied: Project) -> None:
    argv = ["drift", "--env", "dev", "--root", str(applied.root)]
    argv += ["--set", f"temporal.address={applied.server.address}", "--output", "json"]
    assert run_reconcile(*argv).exit_code == 0
    schedule_cli(applied, "toggle", "--pause", "--reason", "x", "--schedule-id", "salam-dev-orders")
    result = run_reconcile(*argv)
    assert result.exit_code == 4, result.output
    document = json.loads(result.stdout)
    assert [(f["kind"], f["job"]) for f in document["findings"]] == [("paused", "orders")]
    settings = applied.root / "environments/dev/environment.yaml"
    data = json.loads(settings.read_text())
    data["drift"] = {"ignore": [{"job": "orders", "kind": "paused", "reason": "OPS-1"}]}
    settings.write_text(json.dumps(data))
    result = run_reconcile(*argv)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["ignored"][0]["ignore_reasons"] == ["OPS-1"]
