"""Fixtures for the export backend: a backend on a throw-away root and hand-off plans."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ingestion.config.loader import Environment
from reconciler.backends.export import ExportBackend
from tests.reconciler.backends import folder_harness

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


Harness = folder_harness.Harness[ExportBackend]


@pytest.fixture
def harness(tmp_path: Path) -> Callable[..., Harness]:
    def make(name: str = "dev", folder: str = FOLDER) -> Harness:
        settings = {"environment": name, "export": {"folder": folder}}
        backend = ExportBackend(Environment(name, tmp_path, settings, ()))
        return Harness(tmp_path, backend, tmp_path / folder)

    return make
