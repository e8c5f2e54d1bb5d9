"""The worker's part in OpenLineage, with the real Temporal dev server and the real job: the job
runs under the workflow run's id (its lake snapshot says so) and names the workflow as its
parent; a job killed by a signal gets its FAIL, a cancelled one its ABORT, from the worker; every
event validates against the official 2-0-2 schemas; ``ingest run --json``'s events still reach
the worker's count."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sqlite3
import sys
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import CancelledError

from ingestion.job import lake
from ingestion.worker import service
from tests import openlineage
from tests.ingestion.worker.conftest import WorkerProject, serving
from tests.ingestion.worker.test_worker import FAST_RETRY, apply, trigger
from tests.reconciler.backends.temporal.server import write_job

pytestmark = pytest.mark.integration
PYTHON = sys.executable
ONCE = {**FAST_RETRY, "maximum_attempts": 1}
EVENTS = ".salam/events/dev.jsonl"
JARS = ["/usr/share/java/sqlite-jdbc.jar"]


def lake_environment(project: WorkerProject) -> None:
    """Give the project's dev environment a lake, a Spark master and a file events sink."""
    path = project.root / "environments" / "dev" / "environment.yaml"
    settings = json.loads(path.read_text())
    settings.update(
        {
            "state_dir": ".salam/state",
            "spark": {
                "master": "local[1]",
                "jars": JARS,
                "conf": {"spark.ui.enabled": "false", "spark.sql.shuffle.partitions": "1"},
            },
            "lake": {
                "catalog": {"name": "salam", "type": "sql", "uri": "sqlite:///.salam/lake/c.db"},
                "warehouse": "file://.salam/lake/warehouse",
            },
            "events": {"sink": "file", "path": EVENTS},
        }
    )
    path.write_text(json.dumps(settings, indent=2))


def ingestion_job(project: WorkerProject) -> str:
    """A job reading a small SQLite table, run by the worker as ``python -m ingestion … --json``;
    its lake table's identifier."""
    database = project.root / "source.db"
    with sqlite3.connect(database) as conn:
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
        conn.executemany("INSERT INTO t VALUES (?, ?)", [(i, f"v{i}") for i in range(1, 41)])
    config = "environments/dev/jobs/orders.json"
    command = [PYTHON, "-m", "ingestion", "run", "--config", config, "--json"]
    path = write_job(project.root, "dev", "orders", command=command, retry_policy=ONCE)
    job = json.loads(path.read_text())
    job["source"].update({"jdbc_url": f"jdbc:sqlite:{database}", "driver": "org.sqlite.JDBC"})
    path.write_text(json.dumps(job, indent=2))
    return f"raw.{job['target']['table_prefix']}t"


def events(project: WorkerProject) -> list[dict[str, Any]]:
    path = project.root / EVENTS
    found = [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
    openlineage.validate_all(found)
    return found


def worker_settings(project: WorkerProject, **extra_env: str) -> Any:
    """The worker's settings from the environment (its events sink included)."""
    settings = service.settings_of(project.load())
    return dataclasses.replace(settings, extra_env=extra_env)


def test_the_job_runs_under_the_workflow_run_id_and_its_events_are_counted(
    worker_project: WorkerProject,
) -> None:
    lake_environment(worker_project)
    identifier = ingestion_job(worker_project)
    apply(worker_project)

    async def run() -> tuple[Any, dict[str, Any]]:
        handle = await trigger(worker_project, "salam-dev-orders")
        return handle, await asyncio.wait_for(handle.result(), 400)

    with serving(worker_project, worker_settings(worker_project)):
        handle, summary = asyncio.run(run())

    assert summary["exit_code"] == 0 and summary["events"] == {"COMPLETE": 1, "START": 1}
    found = events(worker_project)
    (kinds,) = openlineage.check_lifecycle(found).values()
    assert kinds == ["START", "COMPLETE"]
    complete = found[-1]
    assert complete["run"]["facets"]["salam"]["run_id"] == handle.run_id
    parent = complete["run"]["facets"]["parent"]
    assert parent["run"]["runId"] == handle.run_id and parent["job"]["name"] == handle.id
    assert parent["job"]["namespace"] == f"temporal/{worker_project.namespace}"
    assert complete["inputs"][0]["namespace"] == "file"
    environment = worker_project.load()
    table = lake.open_catalog(environment.settings, worker_project.root).load_table(identifier)
    snapshot = table.current_snapshot()
    assert snapshot is not None and snapshot.summary.additional_properties[lake.RUN_ID] == (
        handle.run_id
    )


def test_a_job_killed_by_a_signal_gets_its_fail_from_the_worker(
    worker_project: WorkerProject,
) -> None:
    lake_environment(worker_project)
    ingestion_job(worker_project)
    apply(worker_project)

    async def run() -> Any:
        handle = await trigger(worker_project, "salam-dev-orders")
        with pytest.raises(WorkflowFailureError):
            await asyncio.wait_for(handle.result(), 400)
        return handle

    settings = worker_settings(worker_project, SALAM_CRASH_AT="before_write")  # SIGKILL
    with serving(worker_project, settings):
        handle = asyncio.run(run())

    found = events(worker_project)
    (kinds,) = openlineage.check_lifecycle(found).values()
    assert kinds == ["START", "FAIL"]
    start, fail = found
    assert start["run"]["facets"]["salam"]["run_id"] == handle.run_id
    facets = fail["run"]["facets"]
    assert facets["salam"]["closed_by"] == "worker"
    assert facets["errorMessage"]["message"] == "the job process was killed by signal 9"
    assert facets["parent"]["run"]["runId"] == handle.run_id


def test_a_cancelled_job_gets_its_abort_from_the_worker(worker_project: WorkerProject) -> None:
    lake_environment(worker_project)
    script = (  # a job that has started its run and works on until it is stopped
        "import os, time\n"
        "from pathlib import Path\n"
        "from ingestion.shared import lineage\n"
        f"sink = lineage.Sink({{'sink': 'file', 'path': {EVENTS!r}}}, Path('.'))\n"
        "job = {'namespace': lineage.job_namespace('dev'), 'name': 'orders'}\n"
        "sink.emit(lineage.run_event('START', os.environ['SALAM_LINEAGE_RUN_ID'], job, {}))\n"
        "time.sleep(600)\n"
    )
    write_job(worker_project.root, "dev", "orders", command=[PYTHON, "-c", script])
    apply(worker_project)

    async def cancel() -> BaseException:
        handle = await trigger(worker_project, "salam-dev-orders")
        await _started(worker_project.root / EVENTS)
        await handle.cancel()
        with pytest.raises(WorkflowFailureError) as failure:
            await asyncio.wait_for(handle.result(), 60)
        return failure.value.cause

    with serving(worker_project, worker_settings(worker_project)):
        assert isinstance(asyncio.run(cancel()), CancelledError)

    found = events(worker_project)
    (kinds,) = openlineage.check_lifecycle(found).values()
    assert kinds == ["START", "ABORT"]
    assert found[-1]["run"]["facets"]["salam"]["reason"].endswith("the workflow was cancelled")


async def _started(path: Path) -> None:
    """Wait (at most 60 s) until the events file holds a START."""
    for _ in range(600):
        if path.exists() and '"START"' in path.read_text():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{path} never got a START")
