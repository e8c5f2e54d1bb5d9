"""``reconcile register --plan`` as a subprocess: applies one plan through the engine (audit
record and all), and never crashes at exit."""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from ingestion.plan import environment as plans
from tests.reconciler.backends.temporal.conftest import Project
from tests.reconciler.backends.temporal.server import write_job

pytestmark = pytest.mark.integration
RECONCILE = Path(sys.executable).parent / "reconcile"
RUNS = 50


def register(project: Project, plan: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    argv = [
        str(RECONCILE),
        "register",
        "--plan",
        str(plan),
        "--root",
        str(project.root),
        "--set",
        f"temporal.address={project.server.address}",
        *extra,
    ]
    return subprocess.run(argv, check=False, capture_output=True, text=True, timeout=120)


def write_plan(project: Project, job: str) -> Path:
    path = project.root / f"{job}.plan.json"
    path.write_text(json.dumps(plans.render_all(project.load(), with_git=False)[job]))
    return path


def test_register_creates_then_updates_with_overrides(project: Project) -> None:
    write_job(project.root, "dev", "orders")
    plan = write_plan(project, "orders")
    first = register(project, plan)
    assert first.returncode == 0, first.stderr
    assert "salam-dev-orders" in first.stdout and "created" in first.stdout
    moved = register(project, plan, "--task-queue", "salam-dev-2", "--output", "json")
    assert moved.returncode == 0, moved.stderr
    (change,) = json.loads(moved.stdout)["change_set"]["changes"]
    moved_queue = {"before": "salam-dev", "after": "salam-dev-2"}
    assert change["fields"] == [  # the schedule and the plan it hands the workflow agree
        {"path": "action.args[0].temporal.task_queue", **moved_queue},
        {"path": "action.task_queue", **moved_queue},
    ]
    audit = project.root / ".salam/state/dev/audit.jsonl"
    records = [json.loads(line) for line in audit.read_text().splitlines()]
    assert [r["outcome"] for r in records] == ["applied", "applied"]


def test_register_refuses_a_foreign_schedule(project: Project) -> None:
    write_job(project.root, "dev", "orders")
    project.server.cli(
        "schedule",
        "create",
        "-n",
        project.namespace,
        "--schedule-id",
        "salam-dev-orders",
        "--cron",
        "0 9 * * *",
        "--workflow-id",
        "x",
        "--task-queue",
        "theirs",
        "--type",
        "W",
    )
    result = register(project, write_plan(project, "orders"))
    assert result.returncode == 1 and "not managed by Salam" in result.stderr


def test_register_in_a_loop_never_crashes_at_exit(project: Project) -> None:
    write_job(project.root, "dev", "orders")
    plan = write_plan(project, "orders")
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(lambda _: register(project, plan), range(RUNS)))
    codes = [r.returncode for r in results]
    assert codes == [0] * RUNS, [r.stderr[-500:] for r in results if r.returncode]


def test_a_schedule_registered_in_another_namespace_is_seen_by_drift(project: Project) -> None:
    """The inventory records where register put it: drift reports it, reconcile removes it."""
    other = f"{project.namespace}-other"
    project.server.create_namespace(other)
    write_job(project.root, "dev", "orders")
    registered = register(project, write_plan(project, "orders"), "--namespace", other)
    assert registered.returncode == 0, registered.stderr
    address = f"temporal.address={project.server.address}"
    common = ["--env", "dev", "--root", str(project.root), "--set", address]
    drift = subprocess.run(
        [str(RECONCILE), "drift", *common, "--output", "json"],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert drift.returncode == 4, drift.stderr
    kinds = {f["key"]: f["kind"] for f in json.loads(drift.stdout)["findings"]}
    assert kinds[f"temporal/{other}/salam-dev-orders"] == "orphan"
    assert kinds[f"temporal/{project.namespace}/salam-dev-orders"] == "missing"
    applied = subprocess.run(
        [str(RECONCILE), *common], check=False, capture_output=True, text=True, timeout=120
    )
    assert applied.returncode == 0, applied.stderr
    listed = project.server.cli("schedule", "list", "-n", other, "-o", "json").stdout
    assert "salam-dev-orders" not in listed
