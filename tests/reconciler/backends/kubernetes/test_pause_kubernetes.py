"""``reconcile pause`` / ``resume`` on a CronJob in the Kubernetes emulator: the pause suspends
it with a record of who and why (not the config's), so drift reports it as an operator's pause
with that note and an apply keeps it; resume lets it run again and leaves it in sync."""

from __future__ import annotations

import getpass
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import kmock

from reconciler.backends.kubernetes import render
from tests.reconciler.backends.kubernetes.emulator import EmulatorServer
from tests.reconciler.backends.kubernetes.test_cli import dev_cli

CRONJOBS = kmock.resource("batch", "v1", "cronjobs")
NS, NAME = "ingestion-dev", "salam-dev-network-events"


def cronjob(k8s: EmulatorServer) -> dict[str, Any]:
    raw: dict[str, Any] = k8s.emulator.objects[CRONJOBS, NS, NAME].raw
    return raw


def test_pause_suspends_with_a_note_kept_by_applies_then_resume(
    kubeconfig: Path, k8s: EmulatorServer, project: Callable[..., Path]
) -> None:
    root = project("dev")
    cli = dev_cli(root, kubeconfig)
    assert cli().exit_code == 0
    paused = cli("pause", "--job", "network_events", "--note", "quota")
    assert paused.exit_code == 0, paused.output
    note = f"paused with `reconcile pause` by {getpass.getuser()}: quota"
    assert cronjob(k8s)["spec"]["suspend"] is True
    assert cronjob(k8s)["metadata"]["annotations"][render.CONFIGURED_SUSPEND] == note

    drifted = cli("drift", "--output", "json")
    assert drifted.exit_code == 4, drifted.output
    [finding] = json.loads(drifted.stdout)["findings"]
    assert (finding["kind"], finding["name"], finding["note"]) == ("paused", NAME, note)

    config = root / "environments/dev/jobs/network_events.yaml"
    config.write_text(config.read_text().replace("*/30 * * * *", "*/20 * * * *"))
    assert cli().exit_code == 0
    assert (cronjob(k8s)["spec"]["schedule"], cronjob(k8s)["spec"]["suspend"]) == (
        "*/20 * * * *",
        True,
    )

    resumed = cli("resume", "--job", "network_events")
    assert resumed.exit_code == 0, resumed.output
    assert cronjob(k8s)["spec"]["suspend"] is False
    assert cli("drift").exit_code == 0
