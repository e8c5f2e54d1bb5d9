"""The Kubernetes backend under the lead's engine: apply, idempotence, and the rollback of a
failed apply (a 403 on create restores the CronJob that was already updated)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import kmock

from reconciler import engine
from tests.conftest import clone_job
from tests.reconciler.backends.kubernetes.emulator import EmulatorServer, Fault

CRONJOBS = kmock.resource("batch", "v1", "cronjobs")
NS = "ingestion-dev"
JOBS = Path("environments/dev/jobs")


def options(root: Path, kubeconfig: Path) -> engine.ReconcileOptions:
    overrides = (
        f"kubernetes.kubeconfig={kubeconfig}",
        "kubernetes.context=kmock",
        "kubernetes.disabled=null",  # dev turns it off on a machine without a cluster
        f"state_dir={root / 'state'}",
    )
    return engine.ReconcileOptions(
        root=root, env="dev", overrides=overrides, backends=("kubernetes",), lock_timeout=5
    )


def run(root: Path, kubeconfig: Path, apply: bool = True) -> engine.ApplyOutcome | None:
    with engine.prepare(options(root, kubeconfig), for_apply=apply) as current:
        return engine.apply(current) if apply and not current.change_set.empty else None


def test_engine_applies_then_has_nothing_to_do(
    project: Callable[..., Path], kubeconfig: Path, k8s: EmulatorServer
) -> None:
    root = project("dev")
    outcome = run(root, kubeconfig)
    assert outcome is not None and outcome.status == "applied"
    assert [r.change.key.name for r in outcome.results] == ["salam-dev-network-events"]
    assert run(root, kubeconfig) is None


def test_forbidden_create_rolls_back_the_update_already_applied(
    project: Callable[..., Path], kubeconfig: Path, k8s: EmulatorServer
) -> None:
    root = project("dev")
    run(root, kubeconfig)
    original = k8s.emulator.objects[CRONJOBS, NS, "salam-dev-network-events"].raw["spec"]
    config = root / JOBS / "network_events.yaml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace('cron: "*/30 * * * *"', 'cron: "0 4 * * *"'), encoding="utf-8")
    (root / JOBS / "network_events_eu.yaml").write_text(
        clone_job(text, "network_events", "network_events_eu"), encoding="utf-8"
    )
    k8s.emulator.faults.append(Fault("POST", 403, times=None, reason="Forbidden"))
    outcome = run(root, kubeconfig)
    assert outcome is not None and outcome.status == "rolled-back", outcome
    assert [(r.change.action.verb, r.ok) for r in outcome.results] == [
        ("create", False),
        ("update", True),
    ]
    assert "403 Forbidden" in outcome.results[0].error
    assert (
        k8s.emulator.objects[CRONJOBS, NS, "salam-dev-network-events"].raw["spec"]["schedule"]
        == original["schedule"]
        == "*/30 * * * *"
    )
    k8s.emulator.faults.clear()
    outcome = run(root, kubeconfig)
    assert outcome is not None and outcome.status == "applied"
    assert run(root, kubeconfig) is None
