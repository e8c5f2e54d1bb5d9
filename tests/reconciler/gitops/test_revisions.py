"""Git as the source of truth, on the in-memory backend: --revision reads a past commit without
touching the work tree, prod refuses a dirty tree, rollback --to, and saved change sets."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from reconciler import engine
from reconciler.backends.memory import Store
from tests.conftest import run_reconcile
from tests.reconciler.gitops.conftest import commit, edit, git


def _cli(root: Path, *args: str, env: str = "dev"):  # type: ignore[no-untyped-def]
    return run_reconcile(*args, "--env", env, "--root", str(root), "--lock-timeout", "5")


def _schedules(store: Store) -> dict[str, str]:
    return {
        key.name: resource.spec["schedule"]["cron"] for key, resource in store.resources.items()
    }


def test_revision_renders_a_past_commit_without_touching_the_work_tree(
    store: Store, repo: Callable[..., Path]
) -> None:
    root = repo("dev")
    first = git(root, "rev-parse", "HEAD")
    edit(root, "dev", "payments", '"30 3 * * *"', '"45 3 * * *"')
    commit(root, "B: payments later")
    work_tree = (root / "environments/dev/jobs/payments.yaml").read_bytes()

    assert run_reconcile("--env", "dev", "--root", str(root), "--revision", first).exit_code == 0

    assert _schedules(store)["salam-dev-payments"] == "30 3 * * *"
    assert (root / "environments/dev/jobs/payments.yaml").read_bytes() == work_tree
    assert git(root, "status", "--porcelain") == ""
    with engine.prepare(engine.ReconcileOptions(root=root, env="dev")) as current:
        [change] = current.change_set.pending()
        assert change.key.name == "salam-dev-payments"
        assert current.plans["payments"]["bookkeeping"]["git_revision"] == git(
            root, "rev-parse", "HEAD"
        )


def test_unknown_revision_is_a_clear_error(store: Store, repo: Callable[..., Path]) -> None:
    root = repo("dev")
    result = run_reconcile(
        "--env", "dev", "--root", str(root), "--revision", "no-such-branch", "--dry-run"
    )
    assert result.exit_code == 1
    assert "unknown git revision 'no-such-branch'" in result.stderr


def test_prod_refuses_uncommitted_changes_unless_allowed(
    store: Store, repo: Callable[..., Path]
) -> None:
    root = repo("prod")
    edit(root, "prod", "payments", '"30 3 * * *"', '"45 3 * * *"')
    result = _cli(root, "--yes", env="prod")
    assert result.exit_code == 1
    assert "refusing to apply to prod from uncommitted changes (payments)" in result.stderr
    assert store.writes == 0
    assert _cli(root, "--yes", "--allow-dirty", env="prod").exit_code == 0


def test_rollback_to_a_revision_warns_and_drift_remains_until_git_catches_up(
    store: Store, repo: Callable[..., Path]
) -> None:
    root = repo("dev")
    first = git(root, "rev-parse", "HEAD")
    assert _cli(root).exit_code == 0
    after_a = dict(store.resources)
    edit(root, "dev", "invoices", '"0 2 * * *"', '"0 5 * * *"')
    (root / "environments/dev/jobs/tariff_catalog.yaml").unlink()
    commit(root, "B")
    assert _cli(root).exit_code == 0
    assert store.resources != after_a

    result = run_reconcile("rollback", "--env", "dev", "--to", first, "--root", str(root))

    assert result.exit_code == 0, result.output
    assert "WARNING: live state of 'dev' now follows revision" in result.stdout
    assert store.resources == after_a
    assert _cli(root, "--dry-run", "--exit-code").exit_code == 4


def test_saved_change_set_applies_exactly_or_is_refused_when_stale(
    store: Store, repo: Callable[..., Path], tmp_path: Path
) -> None:
    root = repo("dev")
    saved = tmp_path / "changes.json"
    assert _cli(root, "--dry-run", "--out", str(saved)).exit_code == 0
    document = json.loads(saved.read_text())
    assert document["change_set"]["summary"]["create"] == 7

    assert run_reconcile("apply", str(saved), "--root", str(root)).exit_code == 0
    assert len(store.resources) == 7

    edit(root, "dev", "payments", '"30 3 * * *"', '"45 3 * * *"')
    assert _cli(root, "--dry-run", "--out", str(saved)).exit_code == 0
    first_key = next(iter(store.resources))
    store.resources[first_key] = store.resources[first_key].__class__(
        first_key, "hand", {"schedule": {"cron": "1 1 * * *"}, "command": []}
    )
    result = run_reconcile("apply", str(saved), "--root", str(root))
    assert result.exit_code == 1
    assert "stale change set: live state changed since it was saved" in result.stderr


def test_saved_change_set_is_refused_when_config_changed(
    store: Store, repo: Callable[..., Path], tmp_path: Path
) -> None:
    root = repo("dev")
    saved = tmp_path / "changes.json"
    _cli(root, "--dry-run", "--out", str(saved))
    edit(root, "dev", "payments", '"30 3 * * *"', '"45 3 * * *"')
    result = run_reconcile("apply", str(saved), "--root", str(root))
    assert result.exit_code == 1
    assert "the configs changed" in result.stderr
    assert store.writes == 0


def test_out_needs_dry_run(store: Store, repo: Callable[..., Path], tmp_path: Path) -> None:
    root = repo("dev")
    assert _cli(root, "--out", str(tmp_path / "x.json")).exit_code == 2
