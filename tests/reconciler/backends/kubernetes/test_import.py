"""``reconcile import --from kubernetes`` against the emulator: CronJobs applied with kubectl —
one on the name Salam gives its job round-trips (import → validate → a dry-run shows only adopt →
apply → in sync, the same object: one PUT, same uid, schedule, zone, suspend, image kept); one
under another name and one running something else are reported, never guessed."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import kmock

from tests.conftest import run_reconcile
from tests.reconciler.backends.kubernetes.emulator import EmulatorServer
from tests.reconciler.backends.kubernetes.test_cli import (
    JOBS,
    NS,
    dev_cli,
    foreign_cronjob,
    writes,
)

CRONJOBS = kmock.resource("batch", "v1", "cronjobs")
OURS = "salam-dev-network-events"
CONFIG = JOBS / "network_events.yaml"
IMAGE = "registry.example.com/ingest@sha256:" + "ab" * 32


def kubectl_apply(k8s: EmulatorServer, name: str, command: list[str], image: str = IMAGE) -> None:
    container = {"name": "ingest", "image": image, "command": command}
    foreign_cronjob(
        k8s, name, container,
        schedule="45 */2 * * *", timeZone="Europe/Berlin", suspend=True, concurrencyPolicy="Forbid",
    )  # fmt: skip


def subcommand(root: Path, kubeconfig: Path, *args: str) -> Any:
    """``reconcile import`` / ``validate`` on dev, pointed at the emulator."""
    return run_reconcile(
        *args, "--env", "dev", "--root", str(root),
        "--set", f"kubernetes.kubeconfig={kubeconfig}", "--set", "kubernetes.context=kmock",
        "--set", "kubernetes.disabled=null",
    )  # fmt: skip


def test_import_round_trips_a_kubectl_cronjob(
    kubeconfig: Path, k8s: EmulatorServer, project: Callable[..., Path]
) -> None:
    root = project("dev")
    cli = dev_cli(root, kubeconfig)
    kubectl_apply(k8s, OURS, ["ingest", "run", "--config", str(CONFIG)])
    kubectl_apply(
        k8s, "payments-nightly", ["ingest", "run", "--config", str(JOBS / "payments.yaml")]
    )
    kubectl_apply(k8s, "cleanup", ["/bin/sh", "-c", "rm -rf /tmp/x"])
    uid = k8s.emulator.objects[CRONJOBS, NS, OURS].raw["metadata"]["uid"]
    imported = subcommand(root, kubeconfig, "import", "--from", "kubernetes")
    assert imported.exit_code == 0, imported.output
    assert (
        f"~ {CONFIG}  (job network_events: runtime from kubernetes/{NS}/{OURS})" in imported.output
    )
    assert "payments-nightly: not imported: job payments's schedule would be" in imported.output
    assert "cleanup: not imported: `sh` is not spark-submit" in imported.output
    block = (root / CONFIG).read_text()
    assert "adopt: true" in block and "timezone: Europe/Berlin" in block
    assert subcommand(root, kubeconfig, "validate").exit_code == 0

    dry = cli("--dry-run", "--output", "json")
    assert dry.exit_code == 0, dry.output
    changes = json.loads(dry.stdout)["change_set"]["changes"]
    assert [(c["action"], c["name"]) for c in changes] == [("adopt", OURS)]
    before = writes(k8s)
    applied = cli()
    assert applied.exit_code == 0, applied.output
    assert writes(k8s)[len(before) :] == [f"method.PUT {OURS}"]
    raw = k8s.emulator.objects[CRONJOBS, NS, OURS].raw
    assert raw["metadata"]["uid"] == uid
    assert (raw["spec"]["schedule"], raw["spec"]["timeZone"], raw["spec"]["suspend"]) == (
        "45 */2 * * *", "Europe/Berlin", True,
    )  # fmt: skip
    assert raw["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["image"] == IMAGE
    again = cli("--dry-run", "--exit-code")
    assert again.exit_code == 0 and "in sync" in again.output, again.output


def test_an_import_that_does_not_validate_is_put_back(
    kubeconfig: Path, k8s: EmulatorServer, project: Callable[..., Path]
) -> None:
    root = project("dev")
    config = (root / CONFIG).read_bytes()
    kubectl_apply(k8s, OURS, ["ingest", "run", "--config", str(CONFIG)], "ingest:latest")
    imported = subcommand(root, kubeconfig, "import", "--from", "kubernetes")
    assert imported.exit_code == 3, imported.output
    assert "Give the image by digest" in imported.output
    assert (root / CONFIG).read_bytes() == config
