"""Someone else's schedule on a job's id, on a real Temporal dev server, through the CLI: with
nothing else pending it is a difference, never "in sync" (``--dry-run --exit-code`` exits 4 and
shows it), an apply refuses it (exit 1, naming it and how to resolve it) and touches nothing,
and ``reconcile drift`` reports it as ``foreign``."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import run_reconcile
from tests.reconciler.backends.temporal.conftest import Project
from tests.reconciler.backends.temporal.server import write_job

pytestmark = pytest.mark.integration
THEIRS = "salam-dev-orders"


def cli(project: Project, *args: str) -> Any:
    """``reconcile [drift] --env dev`` against the test server."""
    head = [args[0]] if args[:1] == ("drift",) else []
    common = ["--env", "dev", "--root", str(project.root)]
    common += ["--set", f"temporal.address={project.server.address}"]
    return run_reconcile(*head, *common, *args[len(head) :])


def described(project: Project, schedule: str) -> dict[str, Any]:
    """What ``temporal schedule describe`` shows, minus what moves by itself (run times)."""
    shown = project.server.cli(
        "schedule", "describe", "--schedule-id", schedule, "-n", project.namespace, "-o", "json"
    )
    document: dict[str, Any] = json.loads(shown.stdout)
    info = document.get("info") or {}
    return {
        "schedule": document.get("schedule"),
        "memo": document.get("memo"),
        "search_attributes": document.get("searchAttributes"),
        "updated": info.get("updateTime"),
    }


@pytest.fixture
def collided(project: Project) -> Project:
    """``customers`` applied and in sync; ``orders`` added while someone else holds its id."""
    write_job(project.root, "dev", "customers", cron="0 4 * * *")
    assert cli(project).exit_code == 0
    project.server.cli(
        "schedule", "create", "-n", project.namespace, "--schedule-id", THEIRS,
        "--cron", "0 9 * * *", "--workflow-id", "x", "--task-queue", "theirs", "--type", "W",
    )  # fmt: skip
    write_job(project.root, "dev", "orders")
    return project


def test_a_foreign_schedule_is_a_difference_never_in_sync(collided: Project) -> None:
    foreign = f"temporal/{collided.namespace}/{THEIRS}"
    dry = cli(collided, "--dry-run", "--exit-code")
    assert dry.exit_code == 4, dry.output
    assert "in sync" not in dry.output
    assert f"! {foreign}  (conflict, job orders)" in dry.output
    assert "0 to create, 0 to update, 0 to delete; 1 conflict blocks applying." in dry.output
    as_json = cli(collided, "--dry-run", "--exit-code", "--output", "json")
    assert as_json.exit_code == 4
    change_set = json.loads(as_json.stdout)["change_set"]
    assert (change_set["changes"], change_set["conflicts"]) == ([], [foreign])


def test_apply_refuses_it_naming_it_and_touches_nothing(collided: Project) -> None:
    before = {name: described(collided, name) for name in (THEIRS, "salam-dev-customers")}
    applied = cli(collided)
    assert applied.exit_code == 1, applied.output
    assert f"not applying: temporal/{collided.namespace}/{THEIRS} exist(s)" in applied.output
    assert "not managed by Salam" in applied.output
    assert "or take it over in place: adopt: true in the job config (or --adopt)" in applied.output
    after = {name: described(collided, name) for name in (THEIRS, "salam-dev-customers")}
    assert after == before
    assert after[THEIRS]["schedule"]["action"]["startWorkflow"]["taskQueue"]["name"] == "theirs"


def test_drift_reports_it_as_foreign(collided: Project) -> None:
    drifted = cli(collided, "drift", "--output", "json")
    assert drifted.exit_code == 4, drifted.output
    document = json.loads(drifted.stdout)
    assert [(f["kind"], f["name"], f["job"]) for f in document["findings"]] == [
        ("foreign", THEIRS, "orders")
    ]
    text = cli(collided, "drift")
    assert f"! foreign  temporal/{collided.namespace}/{THEIRS}" in text.output
    assert "0 modified, 0 missing, 0 orphan, 1 foreign, 0 paused." in text.output
