"""Fixtures for the export backend: a backend on a throw-away root and hand-off plans."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ingestion.config.loader import Environment
from reconciler import diff
from reconciler.backends.export import ExportBackend
from reconciler.model import ChangeSet, Result

FOLDER = ".salam/export/dev"
REVISION = "e50c42a4b8b3e6bbbc7fe54793750499dd9e1ebe"


def plan(job: str = "payments", env: str = "dev", **extra: Any) -> dict[str, Any]:
    """An ``informatica`` plan shaped like ``ingest plan`` prints one."""
    base: dict[str, Any] = {
        "job": job,
        "environment": env,
        "mode": "informatica",
        "owner": "finance-data",
        "schedule_id": f"salam-{env}-{job}",
        "schedule": {"cron": "30 3 * * *", "timezone": "UTC"},
        "retries": {"count": 3, "delay_seconds": 900},
        "alerts": {"email": ["finance-data@example.com"], "webhook": None},
        "external": {"provider": "informatica", "dag_id": None},
        "execution_command": ["spark-submit", "--config", f"environments/{env}/jobs/{job}.yaml"],
        "bookkeeping": {
            "digest": "ab" * 32,
            "git_revision": REVISION,
            "git_dirty": False,
            "environment": env,
            "job": job,
        },
    }
    for key, value in extra.items():
        base[key] = copy.deepcopy(value)
    return base


@dataclass
class Harness:
    root: Path
    backend: ExportBackend
    folder: Path

    def file(self, name: str) -> Path:
        return self.folder / name

    def change_set(self, plans: list[Mapping[str, Any]], prune: bool = True) -> ChangeSet:
        desired = [self.backend.render(p) for p in plans]
        return diff.compute(self.backend.environment.name, desired, self.backend.read(), prune)

    def reconcile(self, plans: list[Mapping[str, Any]], prune: bool = True) -> list[Result]:
        results = self.backend.apply(self.change_set(plans, prune).pending())
        assert all(r.ok for r in results), [r.error for r in results]
        return results


@pytest.fixture
def harness(tmp_path: Path) -> Callable[..., Harness]:
    def make(name: str = "dev", folder: str = FOLDER) -> Harness:
        settings = {"environment": name, "export": {"folder": folder}}
        backend = ExportBackend(Environment(name, tmp_path, settings, ()))
        return Harness(tmp_path, backend, tmp_path / folder)

    return make
