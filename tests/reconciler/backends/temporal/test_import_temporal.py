"""``reconcile import --from temporal`` on a real Temporal dev server: schedules a script created
(one running Salam's ingestion, one running something else) — the first round-trips: import →
validate → a dry-run shows only adopt → apply → in sync, the schedule the same one (id, create
time) with the same cron, zone, catch-up window, overlap, pause and task queue; the second is
reported, not guessed."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import pytest
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleState,
)

from tests.conftest import run_reconcile
from tests.reconciler.backends.temporal.conftest import Project
from tests.reconciler.backends.temporal.server import write_job

pytestmark = pytest.mark.integration
OURS, THEIRS = "orders-nightly", "cleanup"
CONFIG = "environments/dev/jobs/orders.json"


def cli(project: Project, *args: str) -> Any:
    common = ["--env", "dev", "--root", str(project.root)]
    common += ["--set", f"temporal.address={project.server.address}"]
    return run_reconcile(*args, *common)


def create(project: Project, schedule_id: str, argv: list[str]) -> None:
    async def run() -> None:
        client = await Client.connect(project.server.address, namespace=project.namespace)
        action = ScheduleActionStartWorkflow(
            "IngestionWorkflow",
            {"execution_command": argv},
            id=f"{schedule_id}-run",
            task_queue="salam-dev",
        )
        spec = ScheduleSpec(cron_expressions=["30 1 * * 1-5"], time_zone_name="Asia/Kolkata")
        policy = SchedulePolicy(
            overlap=ScheduleOverlapPolicy.BUFFER_ONE, catchup_window=timedelta(minutes=10)
        )
        schedule = Schedule(action, spec, policy, ScheduleState(paused=True, note="by hand"))
        await client.create_schedule(schedule_id, schedule)

    asyncio.run(run())


def described(project: Project, schedule_id: str) -> dict[str, Any]:
    shown = project.server.cli(
        "schedule", "describe", "--schedule-id", schedule_id, "-n", project.namespace, "-o", "json"
    )
    document: dict[str, Any] = json.loads(shown.stdout)
    return document


def test_import_round_trips_a_script_made_schedule(project: Project) -> None:
    write_job(project.root, "dev", "orders", cron="0 4 * * *")
    create(project, OURS, ["ingest", "run", "--config", CONFIG])
    create(project, THEIRS, ["/opt/cleanup.sh", "--all"])
    before, theirs = described(project, OURS), described(project, THEIRS)
    dry = cli(project, "import", "--from", "temporal", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert (
        f"~ {CONFIG}  (job orders: runtime from temporal/{project.namespace}/{OURS})" in dry.output
    )
    assert f"{THEIRS}: not imported: `cleanup.sh` is not spark-submit" in dry.output
    assert cli(project, "import", "--from", "temporal").exit_code == 0
    block = json.loads((project.root / CONFIG).read_text())["runtime"]["orchestration"]
    assert block["adopt"] is True and block["temporal"]["workflow_id"] == OURS
    assert block["temporal"]["schedule"] == {
        "cron": "30 1 * * 1-5", "timezone": "Asia/Kolkata", "catchup_window": "600s",
        "overlap": "buffer_one", "paused": True,
    }  # fmt: skip
    assert cli(project, "validate").exit_code == 0

    plan = cli(project, "--dry-run", "--output", "json")
    assert plan.exit_code == 0, plan.output
    changes = json.loads(plan.stdout)["change_set"]["changes"]
    assert [(c["action"], c["name"]) for c in changes] == [("adopt", OURS)]
    applied = cli(project)
    assert applied.exit_code == 0, applied.output
    after = described(project, OURS)
    assert after["info"]["createTime"] == before["info"]["createTime"]
    assert after["schedule"]["spec"] == before["schedule"]["spec"]
    assert after["schedule"]["policies"] == before["schedule"]["policies"]
    assert after["schedule"]["state"]["paused"] is True
    task_queue = after["schedule"]["action"]["startWorkflow"]["taskQueue"]["name"]
    assert task_queue == "salam-dev"
    again = cli(project, "--dry-run", "--exit-code")
    assert again.exit_code == 0 and "in sync" in again.output, again.output
    assert described(project, THEIRS)["schedule"] == theirs["schedule"]  # never touched
