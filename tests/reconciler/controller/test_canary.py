"""The canary end to end on dev: validated (schema, checks, policies), applied as a Temporal
schedule, triggered and run by the real worker with Spark — first failing (no source yet: one
"canary-failed" alert), then into the lake (the alert resolves) — and shown by
``reconcile status``. A real Temporal dev server, the dev worker in a thread, a copy of the
project, and a loopback webhook receiver; every wait is bounded."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from ingestion.config import canary
from ingestion.config.loader import Environment, load_environment
from ingestion.demo import generate
from ingestion.worker import service
from reconciler import health
from tests.ingestion.worker.conftest import WorkerProject, serving, webhook  # noqa: F401
from tests.reconciler.backends.temporal.conftest import temporal_server  # noqa: F401
from tests.reconciler.backends.temporal.server import TemporalServer
from tests.reconciler.controller.alerting_helpers import loop
from tests.scripts import project_copy

pytestmark = pytest.mark.integration
RECONCILE = Path(sys.executable).parent / "reconcile"
RUN_SECONDS = 300.0
SCHEDULE = f"salam-dev-{canary.NAME}"


class Dev(WorkerProject):
    """dev on the test's server, in the test's own namespace (``--set`` both)."""

    def overrides(self) -> list[str]:
        address = f"temporal.address={self.server.address}"
        names = [f"{system}.namespace={self.namespace}" for system in ("temporal", "kubernetes")]
        return [address, *names]

    def load(self) -> Environment:
        return load_environment(self.root, "dev", self.overrides())


@pytest.fixture
def dev(tmp_path: Path, temporal_server: TemporalServer) -> Dev:  # noqa: F811
    """A copy of the project whose dev has the canary as its only job, failing fast (no
    retries)."""
    root = project_copy.make(tmp_path / "project")
    namespace = f"salam-canary-{os.getpid()}"
    temporal_server.create_namespace(namespace)
    for job in (root / "environments/dev/jobs").glob("*.yaml"):
        job.unlink()
    settings = root / "environments/dev/environment.yaml"
    text = settings.read_text().replace("    count: 1\n", "    count: 0\n")
    settings.write_text(text + "canary:\n  mode: temporal\n  cron: '0 3 * * *'\n")
    return Dev(root, temporal_server, namespace)


def _reconcile(project: Dev, *args: str, own: bool = True) -> subprocess.CompletedProcess[str]:
    """``reconcile ARGS --env dev`` in the copy; ``own``: with the test's server and namespace."""
    argv = [str(RECONCILE), *args, "--env", "dev"]
    for value in project.overrides() if own else []:
        argv += ["--set", value]
    done = subprocess.run(
        argv, check=False, cwd=project.root, capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def _run_canary(project: Dev, outcome: str) -> health.LastRun:
    """Trigger the canary's schedule; its run once it ended with ``outcome`` and its workflow
    closed (the next trigger would be skipped as an overlap otherwise); bounded."""
    events = project.root / ".salam/events/dev.jsonl"
    before = health.last_runs(events, "dev").get(canary.NAME)
    project.server.cli(
        "schedule", "trigger", "--namespace", project.namespace, "--schedule-id", SCHEDULE
    )
    deadline = time.monotonic() + RUN_SECONDS
    while time.monotonic() < deadline:
        last = health.last_runs(events, "dev").get(canary.NAME)
        if last not in (None, before) and last.outcome != "running" and not _running(project):
            assert last.outcome == outcome, last
            return last
        time.sleep(1)
    raise AssertionError(f"the canary did not end within {RUN_SECONDS}s")


def _running(project: Dev) -> bool:
    """Whether a workflow of the namespace is still open."""
    listed = project.server.cli(
        "workflow", "list", "--namespace", project.namespace, "--query",
        "ExecutionStatus='Running'", "--output", "json",
    )  # fmt: skip
    return bool(json.loads(listed.stdout or "[]"))


def test_the_canary_runs_end_to_end_alerts_on_failure_and_resolves(
    dev: Dev,
    webhook: list[dict[str, Any]],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SPARK_LOCAL_IP", "127.0.0.1")
    # schema, checks and dev's policies (which want dev's own namespace)
    assert "is valid: 1 job(s)" in _reconcile(dev, "validate", own=False).stdout
    data = dev.root / "policies/data/default.yaml"  # from here on, the test's own namespace
    data.write_text(data.read_text().replace("ingestion-{env}", dev.namespace))
    _reconcile(dev, "--backend", "temporal")
    controller = loop(dev.root, *dev.overrides(), backends=("temporal",))
    with serving(dev, service.settings_of(dev.load())):
        _run_canary(dev, "failed")  # no source database yet
        controller.step()
        controller.step()
        assert [(m["event"], m["kind"]) for m in webhook] == [("alert.opened", "canary-failed")]

        generate.generate(dev.root / ".salam/source/miniboss_bss.db", rows=100)
        succeeded = _run_canary(dev, "succeeded")
        controller.step()

    assert succeeded.rows == 8  # the demo source's products, in the lake
    assert list((dev.root / ".salam/lake/warehouse").rglob("*.parquet"))
    assert [m["event"] for m in webhook] == ["alert.opened", "alert.resolved"]
    (shown,) = json.loads(_reconcile(dev, "status", "--output", "json").stdout)["schedules"]
    assert (shown["job"], shown["live"], shown["lag_seconds"]) == (canary.NAME, True, None)
    assert (shown["last_run"]["outcome"], shown["last_run"]["rows"]) == ("succeeded", 8)
    assert shown["schedule"]["words"] == "every day at 03:00, UTC"
