"""An environment turns a backend off with a reason (``<backend>.disabled``): dev's Kubernetes.

Dev's jobs include a CronJob, and a developer machine has no cluster: with
``kubernetes.disabled`` the everyday commands run every other backend and say, in every change
set and drift report, why the CronJobs were skipped. Naming the disabled backend is an error
that says how to turn it back on for one run.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from tests.conftest import run_reconcile

NO_TEMPORAL = "temporal.disabled=no Temporal server in this test"
DEV_REASON = "backend 'kubernetes' is disabled (no cluster on a developer machine"


def _dev(root: Path, *args: str):  # type: ignore[no-untyped-def]
    state = f"state_dir={root / 'state'}"
    return run_reconcile(*args[:1], "--env", "dev", "--root", str(root), "--set", state, *args[1:])


def test_the_everyday_dry_run_skips_the_disabled_backend_and_says_why(
    project: Callable[..., Path],
) -> None:
    root = project("dev")
    done = _dev(root, "--dry-run", "--set", NO_TEMPORAL)
    assert done.exit_code == 0, done.output
    assert DEV_REASON in done.output
    assert "backend 'temporal' is disabled (no Temporal server in this test)" in done.output
    assert "kubernetes/" not in done.output and "temporal/" not in done.output
    assert "+ crontab/file:" in done.output  # the enabled backends are reconciled as ever
    listed = _dev(root, "--dry-run", "--set", NO_TEMPORAL, "--output", "json")
    keys = [c["key"] for c in json.loads(listed.stdout)["change_set"]["changes"]]
    assert keys and not [k for k in keys if k.startswith(("kubernetes/", "temporal/"))]


def test_drift_says_why_too(project: Callable[..., Path]) -> None:
    root = project("dev")
    drift = _dev(root, "drift", "--set", NO_TEMPORAL)
    assert drift.exit_code == 4, drift.output  # nothing applied yet: the rest is missing
    assert DEV_REASON in drift.output and "kubernetes/" not in drift.output


def test_naming_a_disabled_backend_is_an_error_with_the_way_back(
    project: Callable[..., Path],
) -> None:
    root = project("dev")
    done = _dev(root, "--dry-run", "--backend", "kubernetes")
    assert done.exit_code == 1
    assert "backend 'kubernetes' is disabled in environment.yaml: no cluster" in done.output
    assert "--set kubernetes.disabled=null" in done.output
