"""Fixtures for the Kubernetes backend: the extended kmock emulator on a free loopback port, a
kubeconfig pointing at it, environments loaded with overrides, and a small reconcile loop
(render → read → diff → apply) that drives the backend through its Protocol only."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ingestion.config.loader import Environment, load_environment
from ingestion.plan.environment import render_all
from reconciler import diff
from reconciler.backends import base
from reconciler.backends.kubernetes.backend import KubernetesBackend
from reconciler.model import ChangeSet, Result
from tests.conftest import ROOT
from tests.reconciler.backends.kubernetes.emulator import EmulatorServer


@pytest.fixture
def k8s() -> Iterator[EmulatorServer]:
    server = EmulatorServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def kubeconfig(tmp_path: Path, k8s: EmulatorServer) -> Path:
    path = tmp_path / "kubeconfig"
    path.write_text(k8s.kubeconfig(), encoding="utf-8")
    return path


@pytest.fixture
def environment(kubeconfig: Path) -> Callable[..., Environment]:
    def load(name: str = "dev", *extra: str, root: Path = ROOT) -> Environment:
        overrides = [f"kubernetes.kubeconfig={kubeconfig}", "kubernetes.context=kmock"]
        overrides += ["kubernetes.disabled=null", *extra]  # dev turns it off without a cluster
        return load_environment(root, name, overrides=overrides)

    return load


def kubernetes_plans(env: Environment) -> list[Mapping[str, Any]]:
    return [p for p in render_all(env, with_git=False).values() if p["mode"] == "kubernetes"]


@dataclass
class Run:
    changes: ChangeSet
    results: list[Result]

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)

    def summary(self) -> list[tuple[str, str]]:
        return [(c.action.verb, c.key.name) for c in self.changes.pending()]


def reconcile(
    env: Environment, plans: Sequence[Mapping[str, Any]], apply: bool = True, prune: bool = True
) -> Run:
    """One render → read → diff → apply pass through a fresh backend (as the engine does)."""
    backend = base.create("kubernetes", env)
    assert isinstance(backend, KubernetesBackend)
    with backend:
        desired = [backend.render(plan) for plan in plans]
        changes = diff.compute(env.name, desired, backend.read(), prune=prune)
        results = backend.apply(changes.pending()) if apply else []
    return Run(changes, results)


def clone_plan(plan: Mapping[str, Any], job: str, **schedule: Any) -> dict[str, Any]:
    """A copy of a kubernetes-mode plan for another job name (and optionally another schedule)."""
    copied = json.loads(json.dumps(plan))
    copied["job"] = job
    copied["bookkeeping"]["job"] = job
    copied["execution_command"] = [
        *plan["execution_command"][:-1],
        f"environments/{plan['environment']}/jobs/{job}.yaml",
    ]
    copied["schedule"].update(schedule)
    return copied
