"""Rollback by revert, end to end on the real crontab (file target) and a real Temporal server:
commit A → apply → commit B (changes, an addition, a removal) → apply → git revert B → apply →
live equals what it was after A, field for field; then `rollback --to A` does the same without
a revert commit, and `history` lists the applied revisions."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from reconciler import engine
from tests.conftest import run_reconcile
from tests.reconciler.backends.temporal.server import TemporalServer
from tests.reconciler.gitops.conftest import commit, edit, git

BACKENDS = ("crontab", "temporal")


def _options(root: Path, server: TemporalServer) -> engine.ReconcileOptions:
    return engine.ReconcileOptions(
        root=root,
        env="dev",
        backends=BACKENDS,
        lock_timeout=10,
        overrides=(f"temporal.address={server.address}",),
    )


def _live(root: Path, server: TemporalServer) -> dict[str, Any]:
    with engine.prepare(_options(root, server)) as current:
        return {str(r.key): (r.spec, r.paused) for r in current.live if r.managed}


def _apply(root: Path, server: TemporalServer, *extra: str) -> None:
    result = run_reconcile(
        "--env",
        "dev",
        "--root",
        str(root),
        "--lock-timeout",
        "10",
        "--backend",
        "crontab",
        "--backend",
        "temporal",
        "--set",
        f"temporal.address={server.address}",
        *extra,
    )
    assert result.exit_code == 0, result.output + result.stderr


def test_revert_and_rollback_restore_live_state_exactly(
    repo: Callable[..., Path], temporal_server: TemporalServer
) -> None:
    temporal_server.create_namespace("ingestion-dev")
    root = repo("dev")
    first = git(root, "rev-parse", "HEAD")
    _apply(root, temporal_server)
    after_a = _live(root, temporal_server)
    assert len(after_a) == 3  # subscriptions (crontab), miniboss_bss + usage_records (Temporal)

    jobs = root / "environments/dev/jobs"
    edit(root, "dev", "subscriptions", '"0 * * * *"', '"15 * * * *"')
    edit(root, "dev", "miniboss_bss", '"0 0 * * *"', '"0 1 * * *"')
    shutil.copy(jobs / "usage_records.yaml", jobs / "usage_records_eu.yaml")
    edit(root, "dev", "usage_records_eu", "name: usage_records", "name: usage_records_eu")
    (jobs / "usage_records.yaml").unlink()
    commit(root, "B: reschedule, add usage_records_eu, drop usage_records")
    _apply(root, temporal_server)
    after_b = _live(root, temporal_server)
    assert after_b != after_a and len(after_b) == 3

    git(root, "revert", "--no-edit", "HEAD")
    _apply(root, temporal_server)
    assert _live(root, temporal_server) == after_a

    git(root, "revert", "--no-edit", "HEAD")  # B again
    _apply(root, temporal_server)
    assert _live(root, temporal_server) == after_b

    result = run_reconcile(
        "rollback",
        "--env",
        "dev",
        "--to",
        first,
        "--root",
        str(root),
        "--backend",
        "crontab",
        "--backend",
        "temporal",
        "--set",
        f"temporal.address={temporal_server.address}",
    )
    assert result.exit_code == 0, result.output
    assert "now follows revision" in result.stdout
    assert _live(root, temporal_server) == after_a

    history = run_reconcile("history", "--env", "dev", "--root", str(root), "--output", "json")
    assert history.exit_code == 0, history.output
    applies = json.loads(history.stdout)["applies"]
    assert [a["outcome"] for a in applies] == ["applied"] * 5
    assert applies[0]["revision"] == first and applies[-1]["revision"] == first
