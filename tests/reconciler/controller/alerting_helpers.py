"""Helpers of the controller's alert tests: a loop built as ``reconcile serve`` builds it, and
ingestion events written to an environment's events file as a job writes them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from ingestion.shared import lineage
from reconciler.cli import serve
from reconciler.controller.loop import EnvironmentLoop
from tests.reconciler.test_health import event_line

WEBHOOK = "alerts.webhook=env:SALAM_TEST_WEBHOOK"  # the worker tests' loopback receiver


def loop(root: Path, *settings: str, backends: Sequence[str] = ("crontab",)) -> EnvironmentLoop:
    """The dev loop of ``reconcile serve --worktree`` on ``root`` with ``--set settings``."""
    return serve._loop(root, "dev", [WEBHOOK, *settings], list(backends), 10.0, worktree=True)


def run(root: Path, job: str, *ends: str, at: datetime | None = None) -> None:
    """Append one run of ``job`` to dev's events file: START, then each of ``ends`` — events
    as the job writes them, validated against the OpenLineage schemas (``event_line``)."""
    moment, run_id = at or datetime.now(UTC), lineage.uuid7()
    path = root / ".salam/events/dev.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as stream:
        for kind in ("START", *ends):
            stream.write(event_line(kind, job, run_id, moment))
