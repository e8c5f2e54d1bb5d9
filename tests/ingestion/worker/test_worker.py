"""The worker end to end: schedules applied by Salam, triggered, run by ``IngestionWorkflow``;
every declared task queue polled, a cancel that stops the job within 2 s, and a job's expected
failure logged as one line."""

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
from temporalio.exceptions import CancelledError

from ingestion.config.loader import load_environment
from ingestion.plan import environment as plans
from ingestion.worker import activities, service
from reconciler import diff
from reconciler.backends.temporal import TemporalBackend
from tests.conftest import ROOT
from tests.ingestion.worker.conftest import WEBHOOK_TOKEN, WorkerProject, serving
from tests.reconciler.backends.temporal.server import write_environment, write_job

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
    assert WEBHOOK_TOKEN not in json.dumps(alert)


def test_cancelling_the_workflow_stops_the_whole_job_within_two_seconds(
    running_worker: WorkerProject,
) -> None:
    pids = running_worker.root / "pids"
    script = (  # a job slow to stop: it and its child ignore SIGTERM, so SIGKILL must follow
        "import os, signal, subprocess, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "child = subprocess.Popen(['sleep', '600'])\n"
        f"open({str(pids)!r}, 'w').write(f'{{os.getpid()}} {{child.pid}}')\n"
        "time.sleep(600)\n"
    )
    write_job(running_worker.root, "dev", "orders", command=[PYTHON, "-c", script])
    apply(running_worker)

    async def cancel() -> tuple[Any, float]:
        handle = await trigger(running_worker, "salam-dev-orders")
        await _written(pids, parts=2)
        await asyncio.sleep(3)  # past the first heartbeat, which would carry a cancel at once
        await handle.cancel()
        return handle, time.monotonic()

    handle, cancelled_at = asyncio.run(cancel())
    processes = [int(pid) for pid in pids.read_text().split()]
    while any(_running(pid) for pid in processes) and time.monotonic() < cancelled_at + 2.0:
        time.sleep(0.05)
    survivors = [pid for pid in processes if _running(pid)]
    assert not survivors, f"the job's processes {survivors} outlived the cancel by 2 s"

    async def outcome() -> BaseException:
        with pytest.raises(WorkflowFailureError) as failure:
            await asyncio.wait_for(handle.result(), 30)
        return failure.value.cause

    assert isinstance(asyncio.run(outcome()), CancelledError)


def test_worker_polls_every_task_queue_the_environment_declares(
    worker_project: WorkerProject,
) -> None:
    assert service.task_queues(load_environment(ROOT, "dev")) == [
        "spark-ingest-dev",
        "temporal-maintenance",
    ]
    queues = ["salam-dev", "salam-dev-maintenance"]  # no job uses the second one
    write_environment(worker_project.root, "dev", worker_project.namespace, queues)
    write_job(worker_project.root, "dev", "orders", command=[PYTHON, "-c", "print('ran')"])
    environment = worker_project.load()
    assert service.task_queues(environment) == queues
    plan = plans.render_all(environment, with_git=False)["orders"]

    async def run_on_second_queue() -> Any:
        client = await Client.connect(
            worker_project.server.address, namespace=worker_project.namespace
        )
        handle = await client.start_workflow(
            "IngestionWorkflow", plan, id="maintenance-orders", task_queue="salam-dev-maintenance"
        )
        return await asyncio.wait_for(handle.result(), 60)

    with serving(worker_project, activities.Settings("dev", worker_project.root)):
        summary = asyncio.run(run_on_second_queue())
    assert summary["exit_code"] == 0 and summary["attempt"] == 1


def test_ingest_worker_command_runs_and_stops_on_sigterm(worker_project: WorkerProject) -> None:
    write_job(worker_project.root, "dev", "orders", command=[PYTHON, "-c", "print('done')"])
    apply(worker_project)
    process = _ingest_worker(worker_project)
    try:

        async def run() -> Any:
            return await (await trigger(worker_project, "salam-dev-orders")).result()

        assert asyncio.run(asyncio.wait_for(run(), 120))["exit_code"] == 0
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
    assert "job orders | done" in output


def test_expected_job_failures_are_one_log_line_each(worker_project: WorkerProject) -> None:
    codes = (1, 3, 75)  # README "The ingestion job": terminal, invalid config, transient
    once = {**FAST_RETRY, "maximum_attempts": 1}
    for code in codes:
        command = [PYTHON, "-c", f"raise SystemExit({code})"]
        write_job(worker_project.root, "dev", f"exit{code}", command=command, retry_policy=once)
    apply(worker_project)
    process = _ingest_worker(worker_project)
    try:

        async def run(code: int) -> None:
            handle = await trigger(worker_project, f"salam-dev-exit{code}")
            with pytest.raises(WorkflowFailureError):
                await asyncio.wait_for(handle.result(), 60)

        for code in codes:
            asyncio.run(run(code))
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
    assert "Traceback" not in output, output
    for code in codes:
        (line,) = [line for line in output.splitlines() if f"exited with code {code} " in line]
        assert f"job exit{code}: command exited with code {code} (" in line
        assert ("not retried" in line) == (code != 75)


def _ingest_worker(project: WorkerProject) -> subprocess.Popen[str]:
    """``ingest worker`` for the project's dev environment, output captured."""
    return subprocess.Popen(
        [
            str(Path(sys.executable).parent / "ingest"),
            "worker",
            "--env",
            "dev",
            "--root",
            str(project.root),
            "--set",
            f"temporal.address={project.server.address}",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


async def _written(path: Path, parts: int) -> None:
    """Wait (at most 60 s) until ``path`` holds ``parts`` words."""
    for _ in range(600):
        if path.exists() and len(path.read_text().split()) == parts:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{path} was never written")


def _running(pid: int) -> bool:
    """The process exists and is not a zombie (exited, waiting for its parent)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return not _zombie(pid)


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except OSError:
        return False
