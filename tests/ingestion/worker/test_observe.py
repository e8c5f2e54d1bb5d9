"""The worker's endpoint (``--listen``) against a real Temporal dev server: alive at once, ready
only once a worker polls every task queue, and ``/metrics`` — the SDK's metrics with the
workflow outcome counters, moved by a run that succeeds and one made to fail — parses with
prometheus_client and passes ``promtool check metrics``."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from temporalio.client import WorkflowFailureError

from ingestion.worker import activities, observe, service
from tests import promtool as tool
from tests.ingestion.worker.conftest import WorkerProject, serving
from tests.ingestion.worker.test_worker import apply, trigger
from tests.manifests import dashboards
from tests.reconciler.backends.temporal.server import free_port, write_job

pytestmark = pytest.mark.integration
ONE_RETRY = {"initial_interval_seconds": 1, "maximum_interval_seconds": 1, "maximum_attempts": 2}


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def wait_for(check: Callable[[], bool], what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"waited {seconds}s for {what}")


def outcomes(text: str) -> dict[tuple[str, str], float]:
    return {
        (s.labels["job"], s.labels["outcome"]): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "salam_workflow_outcomes_total"
    }


def test_ready_only_once_polling_and_outcomes_counted(
    worker_project: WorkerProject, promtool: Path
) -> None:
    ok = "import json; [print(json.dumps({'event': e})) for e in ('START', 'COMPLETE')]"
    write_job(worker_project.root, "dev", "orders", command=[sys.executable, "-c", ok])
    bad = [sys.executable, "-c", "raise SystemExit(7)"]
    write_job(worker_project.root, "dev", "payments", command=bad, retry_policy=ONE_RETRY)
    apply(worker_project)
    queues = service.task_queues(worker_project.load())
    observer = observe.Observer(f"127.0.0.1:{free_port()}", queues)
    url = observer.server.url
    server = worker_project.server.process
    assert server is not None
    server.send_signal(signal.SIGSTOP)  # Temporal stops answering: the worker cannot connect
    try:
        with serving(worker_project, activities.Settings("dev", worker_project.root), observer):
            wait_for(lambda: get(url + "/healthz")[0] == 200, "liveness")
            time.sleep(1)
            status, body = get(url + "/readyz")
            assert status == 503 and json.loads(body)["polling"] == 0
            server.send_signal(signal.SIGCONT)
            wait_for(lambda: get(url + "/readyz")[0] == 200, "readiness")
            assert json.loads(get(url + "/readyz")[1])["polling"] == len(queues)
            asyncio.run(_run_both(worker_project))
            wait_for(lambda: len(outcomes(get(url + "/metrics")[1])) == 3, "outcome counters")
            status, text = get(url + "/metrics")
    finally:
        server.send_signal(signal.SIGCONT)
    assert status == 200
    tool.check_metrics(promtool, text)
    assert outcomes(text) == {
        ("orders", "succeeded"): 1,
        ("payments", "retried"): 1,
        ("payments", "failed"): 1,
    }
    names = {s.name for family in text_string_to_metric_families(text) for s in family.samples}
    assert "temporal_workflow_completed_total" in names  # the SDK's own
    families = {dashboards.HISTOGRAM.sub("", name) for name in names}
    assert dashboards.metric_names("temporal_") <= families  # what the dashboards read
    with pytest.raises(OSError):
        get(url + "/healthz")  # the endpoint ends with the worker


async def _run_both(project: WorkerProject) -> None:
    assert (await (await trigger(project, "salam-dev-orders")).result())["exit_code"] == 0
    with pytest.raises(WorkflowFailureError):
        await (await trigger(project, "salam-dev-payments")).result(follow_runs=True)


def test_a_malformed_listen_address_is_refused() -> None:
    with pytest.raises(observe.ListenError, match="HOST:PORT"):
        observe.Observer("9464", ["q"])
