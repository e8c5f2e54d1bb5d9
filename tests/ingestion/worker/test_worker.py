"""The worker end to end: schedules applied by Salam, triggered, run by ``IngestionWorkflow``."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client, ScheduleActionExecutionStartWorkflow, WorkflowFailureError

from ingestion.plan import environment as plans
from reconciler import diff
from reconciler.backends.temporal import TemporalBackend
from tests.ingestion.worker.conftest import WorkerProject
from tests.reconciler.backends.temporal.server import write_job

pytestmark = pytest.mark.integration
PYTHON = sys.executable
FAST_RETRY = {
    "initial_interval_seconds": 1,
    "maximum_interval_seconds": 1,
    "maximum_attempts": 3,
    "backoff_coefficient": 1.0,
}


def apply(project: WorkerProject) -> None:
    environment = project.load()
    with TemporalBackend(environment) as backend:
        desired = [
            backend.render(p) for p in plans.render_all(environment, with_git=False).values()
        ]
        results = backend.apply(diff.compute("dev", desired, backend.read()).pending())
    assert all(r.ok for r in results)


async def trigger(project: WorkerProject, schedule_id: str) -> Any:
    """Trigger the schedule and return the handle of the workflow it started."""
    client = await Client.connect(project.server.address, namespace=project.namespace)
    schedule = client.get_schedule_handle(schedule_id)
    await schedule.trigger()
    for _ in range(300):
        recent = (await schedule.describe()).info.recent_actions
        if recent:
            action = recent[-1].action
            assert isinstance(action, ScheduleActionExecutionStartWorkflow)
            return client.get_workflow_handle(
                action.workflow_id, run_id=action.first_execution_run_id
            )
        await asyncio.sleep(0.1)
    raise AssertionError("the schedule never started a workflow")


def test_triggered_schedule_runs_the_command_to_completion(running_worker: WorkerProject) -> None:
    script = (
        "import json; print(json.dumps({'event': 'START'})); print('hello'); "
        "print(json.dumps({'event': 'COMPLETE'}))"
    )
    write_job(running_worker.root, "dev", "orders", command=[PYTHON, "-c", script])
    apply(running_worker)

    async def run() -> Any:
        return await (await trigger(running_worker, "salam-dev-orders")).result()

    summary = asyncio.run(run())
    assert summary["exit_code"] == 0 and summary["attempt"] == 1
    assert summary["events"] == {"COMPLETE": 1, "START": 1}


def test_failing_command_retries_per_policy_then_alerts(
    running_worker: WorkerProject, webhook: list[dict[str, Any]]
) -> None:
    attempts = running_worker.root / "attempts"
    script = f"open({str(attempts)!r}, 'a').write('x'); raise SystemExit(7)"
    write_job(
        running_worker.root,
        "dev",
        "orders",
        command=[PYTHON, "-c", script],
        retry_policy=FAST_RETRY,
        alerts={"webhook": "env:SALAM_TEST_WEBHOOK"},
    )
    apply(running_worker)

    async def run() -> None:
        handle = await trigger(running_worker, "salam-dev-orders")
        with pytest.raises(WorkflowFailureError):
            await handle.result(follow_runs=True)

    asyncio.run(run())
    assert attempts.read_text() == "xxx"
    (alert,) = webhook
    assert alert["job"] == "orders" and alert["attempt"] == 3 and alert["summary"]["exit_code"] == 7
    assert "t0ps3cret" not in json.dumps(alert)


def test_cancelling_the_workflow_kills_the_command(running_worker: WorkerProject) -> None:
    pid_file = running_worker.root / "pid"
    script = (
        f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); time.sleep(600)"
    )
    write_job(running_worker.root, "dev", "orders", command=[PYTHON, "-c", script])
    apply(running_worker)

    async def run() -> int:
        handle = await trigger(running_worker, "salam-dev-orders")
        while not pid_file.exists() or not pid_file.read_text():
            await asyncio.sleep(0.1)
        await handle.cancel()
        with pytest.raises(WorkflowFailureError):
            await handle.result()
        return int(pid_file.read_text())

    pid = asyncio.run(run())
    assert not _alive(pid), "the command outlived its cancelled workflow"


def test_ingest_worker_command_runs_and_stops_on_sigterm(worker_project: WorkerProject) -> None:
    write_job(worker_project.root, "dev", "orders", command=[PYTHON, "-c", "print('done')"])
    apply(worker_project)
    ingest = Path(sys.executable).parent / "ingest"
    process = subprocess.Popen(
        [
            str(ingest),
            "worker",
            "--env",
            "dev",
            "--root",
            str(worker_project.root),
            "--set",
            f"temporal.address={worker_project.server.address}",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:

        async def run() -> Any:
            return await (await trigger(worker_project, "salam-dev-orders")).result()

        assert asyncio.run(asyncio.wait_for(run(), 120))["exit_code"] == 0
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
    assert "job orders | done" in output


def _alive(pid: int) -> bool:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        if _zombie(pid):
            return False
        time.sleep(0.1)
    return True


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except OSError:
        return False
