"""A job moved from cron to Temporal runs exactly once around the switch, observed where it runs:
the real ``cron -f`` (in a private mount namespace, :mod:`daemon`) runs its every-minute line
under the ``flock`` wrapper, a real Temporal dev server and worker run its schedule. The move is
started a few seconds before a fire time: Salam lets that fire happen on cron and waits for the
run (which holds the wrapper's lock for a few seconds) to end, removes the line, resumes the
Temporal schedule; the next minute's run is Temporal's. Every minute from the first cron run to
the first Temporal one has exactly one run, and cron never runs after the switch."""

from __future__ import annotations

import json
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from ingestion.worker import activities
from tests.ingestion.worker.conftest import (  # the worker's fixtures, used here too
    WorkerProject,
    serving,
    worker_project,  # noqa: F401
    worker_server,  # noqa: F401
)
from tests.reconciler.backends.crontab import daemon
from tests.reconciler.backends.crontab import test_cron_daemon as cron_daemon
from tests.reconciler.backends.crontab.conftest import CronUser
from tests.reconciler.backends.temporal.server import TemporalServer

pytestmark = pytest.mark.integration

RECONCILE = Path(sys.executable).parent / "reconcile"
WAIT_SECONDS = 200
RUN_SECONDS = 4
RECORDER = f"""#!/usr/bin/python3
import json, os, sys, time
parent = open("/proc/%d/cmdline" % os.getppid(), "rb").read().split(b"\\0")[0].decode()
record = {{"at": time.time(), "by": "cron" if parent.endswith("flock") else "temporal"}}
runs = os.path.join(os.path.dirname(os.path.abspath(sys.argv[0])), "runs")
with open(os.path.join(runs, "%d.json" % os.getpid()), "w") as out:
    json.dump(record, out)
time.sleep({RUN_SECONDS})
"""


def write_project(root: Path, shared: Path, user: str, server: TemporalServer, ns: str) -> Path:
    """The cron daemon test's project (every-minute ``marker`` in /etc/cron.d, under ``flock``),
    with Temporal settings for where it moves."""
    cron_daemon.write_project(root, shared, user)
    path = root / "environments" / "dev" / "environment.yaml"
    settings = yaml.safe_load(path.read_text())
    settings["temporal"] = {
        "address": server.address,
        "namespace": ns,
        "task_queues": ["salam-dev"],
        "default_task_queue": "salam-dev",
    }
    path.write_text(yaml.safe_dump(settings))
    return root / "environments" / "dev" / "jobs" / "marker.yaml"


def runs(shared: Path) -> list[dict[str, Any]]:
    found = []
    for record in (shared / "runs").glob("*.json"):
        text = record.read_text()
        if text.endswith("}"):
            found.append(json.loads(text))
    return sorted(found, key=lambda r: r["at"])


def wait_for(shared: Path, by: str, after: float) -> dict[str, Any]:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        found = [r for r in runs(shared) if r["by"] == by and r["at"] > after]
        if found:
            return found[0]
        time.sleep(1)
    pytest.fail(f"no {by} run within {WAIT_SECONDS}s; runs: {runs(shared)}")


@pytest.fixture
def shared(cron_user: CronUser) -> Iterator[Path]:
    directory = cron_daemon.shared_directory(cron_user, RECORDER)
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


def test_a_move_with_a_fire_time_in_it_runs_exactly_once(
    tmp_path: Path,
    cron_user: CronUser,
    shared: Path,
    worker_project: WorkerProject,  # noqa: F811
) -> None:
    if reason := daemon.missing():
        pytest.skip(reason)
    root = tmp_path / "project"
    server, ns = worker_project.server, worker_project.namespace
    job = write_project(root, shared, cron_user.name, server, ns)
    (tmp_path / "namespace").mkdir()
    namespace = daemon.CronNamespace(tmp_path / "namespace")
    namespace.start()
    try:
        done = namespace.run(RECONCILE, "--env", "dev", "--root", root, "--yes")
        assert done.returncode == 0, done.stdout + done.stderr
        namespace.start_cron()
        first = wait_for(shared, "cron", 0)
        document = yaml.safe_load(job.read_text())
        document["runtime"]["orchestration"] = {
            "mode": "temporal",
            "temporal": {"schedule": {"cron": "* * * * *", "timezone": "UTC"}},
        }
        job.write_text(yaml.safe_dump(document))
        project = WorkerProject(root, server, ns)
        with serving(project, activities.Settings("dev", shared / "work")):
            time.sleep((55 - time.time() % 60) % 60)  # 5 s before the next fire time
            fire = time.time() // 60 * 60 + 60
            moved = namespace.run(RECONCILE, "--env", "dev", "--root", root, "--yes", timeout=400)
            assert moved.returncode == 0, moved.stdout + moved.stderr
            assert "-> temporal/" in moved.stdout and "(move, job marker)" in moved.stdout
            assert "letting it fire first" in moved.stderr
            assert "has a run in flight" in moved.stderr
            switched = time.time()
            taken_over = wait_for(shared, "temporal", switched)
        cron_after = [r for r in runs(shared) if r["by"] == "cron" and r["at"] > switched]
    finally:
        namespace.stop()
    minutes = [
        int(r["at"] // 60) for r in runs(shared) if first["at"] <= r["at"] <= taken_over["at"]
    ]
    assert sorted(minutes) == list(range(minutes[0], minutes[0] + len(minutes))), runs(shared)
    assert len(set(minutes)) == len(minutes), runs(shared)  # one run per minute, no double
    fired = [r for r in runs(shared) if int(r["at"] // 60) == int(fire // 60)]
    assert [r["by"] for r in fired] == ["cron"]  # the fire during the move ran on cron, once
    assert int(taken_over["at"] // 60) == int(fire // 60) + 1  # and the next one on Temporal
    assert cron_after == []
