"""A job moving from the crontab (a real file target) to Temporal (the dev server): the change
set shows one move; the apply waits while the cron wrapper's ``flock`` is held (a run in flight)
and keeps away from the next fire time, creates the schedule paused, removes the crontab line,
then resumes the schedule; the next run is in sync."""

from __future__ import annotations

import fcntl
import json
import threading
import time
from pathlib import Path

import pytest

from reconciler import engine, move
from reconciler.model import Action, ApplyStatus
from tests.reconciler.backends.temporal.conftest import Project
from tests.reconciler.backends.temporal.server import write_job

pytestmark = pytest.mark.integration
CRON_FILE = "cron/salam-dev.cron"


def _on_cron(project: Project) -> Path:
    """dev with a crontab file target too, and ``orders`` on it, every minute."""
    settings_path = project.root / "environments/dev/environment.yaml"
    settings = json.loads(settings_path.read_text())
    settings["crontab"] = {"target": {"file": CRON_FILE}, "host_timezone": "UTC"}
    settings_path.write_text(json.dumps(settings))
    path = write_job(project.root, "dev", "orders", cron="* * * * *")
    job = json.loads(path.read_text())
    job["runtime"]["orchestration"] = {
        "mode": "plain_cron",
        "cron": {"expression": "* * * * *", "timezone": "UTC"},
    }
    path.write_text(json.dumps(job))
    return path


def _options(project: Project, moving: move.MoveOptions) -> engine.ReconcileOptions:
    overrides = (f"temporal.address={project.server.address}",)
    return engine.ReconcileOptions(root=project.root, env="dev", overrides=overrides, moving=moving)


def test_cron_to_temporal_waits_for_the_run_in_flight_then_switches(project: Project) -> None:
    _on_cron(project)
    with engine.prepare(_options(project, move.MoveOptions()), for_apply=True) as current:
        assert engine.apply(current).status is ApplyStatus.APPLIED
    assert "job=orders" in (project.root / CRON_FILE).read_text()
    write_job(project.root, "dev", "orders", cron="* * * * *")  # now on Temporal

    lock = project.root / ".salam/locks/dev-orders.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    held = lock.open("wb")
    fcntl.flock(held, fcntl.LOCK_EX)  # the cron wrapper's run in flight
    threading.Timer(3.0, held.close).start()
    said: list[str] = []
    moving = move.MoveOptions(margin=3.0, wait=120.0, poll=0.5, progress=said.append)
    started = time.monotonic()
    with engine.prepare(_options(project, moving), for_apply=True) as current:
        assert [c.action for c in current.change_set.pending()] == [Action.MOVE]
        outcome = engine.apply(current)
    assert outcome.status is ApplyStatus.APPLIED, outcome.results
    assert time.monotonic() - started >= 3.0
    assert any("has a run in flight" in message for message in said)
    assert "job=orders" not in (project.root / CRON_FILE).read_text()
    shown = project.server.cli(
        "schedule", "describe", "--schedule-id", "salam-dev-orders",
        "-n", project.namespace, "-o", "json",
    )  # fmt: skip
    assert not json.loads(shown.stdout)["schedule"]["state"].get("paused")
    with engine.prepare(_options(project, move.MoveOptions())) as current:
        assert current.change_set.in_sync
