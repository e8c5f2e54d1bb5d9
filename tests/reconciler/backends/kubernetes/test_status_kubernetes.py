"""``reconcile status`` reads a CronJob's own record of its runs (``status.lastScheduleTime``, as
the CronJob controller writes it on the emulated API server)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import kmock

from tests.conftest import run_reconcile
from tests.reconciler.backends.kubernetes.emulator import EmulatorServer
from tests.reconciler.backends.kubernetes.test_engine import run

CRONJOBS = kmock.resource("batch", "v1", "cronjobs")


def test_the_cronjobs_last_schedule_time_is_its_last_run(
    project: Callable[..., Path], kubeconfig: Path, k8s: EmulatorServer
) -> None:
    root = project("dev")
    run(root, kubeconfig)
    scheduled = (datetime.now(UTC) - timedelta(minutes=1)).replace(microsecond=0)
    k8s.emulator.objects[CRONJOBS, "ingestion-dev", "salam-dev-network-events"].patch(
        {"status": {"lastScheduleTime": scheduled.strftime("%Y-%m-%dT%H:%M:%SZ"), "active": [{}]}}
    )
    result = run_reconcile(
        "status", "--env", "dev", "--root", str(root), "--backend", "kubernetes",
        "--output", "json", "--set", f"kubernetes.kubeconfig={kubeconfig}",
        "--set", "kubernetes.context=kmock", "--set", "kubernetes.disabled=null",
    )  # fmt: skip
    [schedule] = json.loads(result.stdout)["schedules"]
    assert schedule["job"] == "network_events" and schedule["live"]
    last = schedule["last_run"]
    assert last["source"] == "scheduler" and last["started"] == scheduled.isoformat().replace(
        "+00:00", "Z"
    )
    assert schedule["counters"]["running"] == 1
    assert schedule["lag_seconds"] is None
