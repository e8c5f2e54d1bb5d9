"""``reconcile --env prod`` with the Kubernetes backend against the emulator: the dry run shows
the CronJob to create, applying creates it with Salam's labels, a second run has nothing to do."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import kmock

from reconciler.backends.kubernetes import render
from tests.conftest import run_reconcile
from tests.reconciler.backends.kubernetes.emulator import EmulatorServer

CRONJOBS = kmock.resource("batch", "v1", "cronjobs")


def test_prod_dry_run_apply_then_in_sync(
    tmp_path: Path, kubeconfig: Path, k8s: EmulatorServer, project: Callable[..., Path]
) -> None:
    common = [
        "--env",
        "prod",
        "--root",
        str(project("prod")),
        "--backend",
        "kubernetes",
        "--set",
        f"kubernetes.kubeconfig={kubeconfig}",
        "--set",
        "kubernetes.context=kmock",
        "--set",
        f"state_dir={tmp_path / 'state'}",
    ]
    dry = run_reconcile(*common, "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "+ kubernetes/ingestion-prod/salam-prod-network-events" in dry.output
    assert not k8s.requests("POST")
    applied = run_reconcile(*common, "--yes")
    assert applied.exit_code == 0, applied.output
    labels = k8s.emulator.objects[CRONJOBS, "ingestion-prod", "salam-prod-network-events"].raw[
        "metadata"
    ]["labels"]
    assert labels[render.MANAGED_BY] == "salam" and labels[render.ENVIRONMENT_LABEL] == "prod"
    again = run_reconcile(*common, "--dry-run", "--exit-code")
    assert again.exit_code == 0 and "in sync" in again.output
