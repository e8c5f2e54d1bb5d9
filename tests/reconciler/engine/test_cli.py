"""``reconcile --env E [--dry-run]`` through the CLI on the in-memory backend: the change set
people read, the JSON document machines read, and the exit codes of the design."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from reconciler.backends.memory import Store
from tests.conftest import run_reconcile


def _reconcile(root: Path, *args: str, env: str = "dev"):  # type: ignore[no-untyped-def]
    return run_reconcile("--env", env, "--root", str(root), "--lock-timeout", "5", *args)


def test_dry_run_exactly_as_written_shows_a_terraform_like_change_set(
    store: Store, dev: Path
) -> None:
    result = _reconcile(dev, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "  + memory/dev/salam-dev-payments  (create, job payments)" in result.stdout
    assert '      + schedule.cron = "30 3 * * *"' in result.stdout
    assert result.stdout.rstrip().endswith("7 to create, 0 to update, 0 to delete.")
    assert "\x1b[" not in result.stdout
    assert store.writes == 0


def test_exit_code_flag_reports_pending_changes_with_4(store: Store, dev: Path) -> None:
    assert _reconcile(dev, "--dry-run", "--exit-code").exit_code == 4
    assert _reconcile(dev).exit_code == 0
    result = _reconcile(dev, "--dry-run", "--exit-code")
    assert result.exit_code == 0 and "is in sync" in result.stdout


def test_update_shows_before_and_after(store: Store, dev: Path) -> None:
    _reconcile(dev)
    job = dev / "environments/dev/jobs/invoices.yaml"
    job.write_text(job.read_text().replace('"0 2 * * *"', '"0 3 * * *"'))
    result = _reconcile(dev, "--dry-run")
    assert "  ~ memory/dev/ingest_invoices  (update, job invoices)" in result.stdout
    assert '      ~ schedule.cron: "0 2 * * *" -> "0 3 * * *"' in result.stdout
    assert "0 to create, 1 to update, 0 to delete." in result.stdout


def test_json_output_is_one_document(store: Store, dev: Path) -> None:
    result = _reconcile(dev, "--output", "json")
    document = json.loads(result.stdout)
    assert document["command"] == "reconcile" and document["exit_code"] == 0
    assert document["outcome"] == "applied"
    assert document["change_set"]["summary"] == {
        "create": 7,
        "adopt": 0,
        "update": 0,
        "move": 0,
        "delete": 0,
    }
    assert all(r["ok"] for r in document["results"])


def test_failed_apply_exits_1_and_says_what_was_restored(store: Store, dev: Path) -> None:
    _reconcile(dev)
    for name, old, new in (
        ("invoices", '"0 2 * * *"', '"0 3 * * *"'),
        ("payments", '"30 3 * * *"', '"0 4 * * *"'),
    ):
        path = dev / f"environments/dev/jobs/{name}.yaml"
        path.write_text(path.read_text().replace(old, new))
    store.fail.add(("update", "salam-dev-payments"))
    result = _reconcile(dev)
    assert result.exit_code == 1
    assert "salam-dev-payments: update failed: injected failure on update" in result.stdout
    assert "Restored: live state is as it was before this apply." in result.stdout


def test_prod_apply_off_a_terminal_needs_yes(store: Store, project) -> None:  # type: ignore[no-untyped-def]
    root = project("prod")
    result = _reconcile(root, env="prod")
    assert result.exit_code == 1
    assert "refusing to apply 7 change(s) to prod without confirmation" in result.stderr
    assert store.writes == 0
    assert _reconcile(root, "--yes", env="prod").exit_code == 0


def test_missing_env_is_a_usage_error(store: Store, dev: Path) -> None:
    result = run_reconcile("--dry-run", "--root", str(dev))
    assert result.exit_code == 2
    assert "missing --env" in result.output


def test_invalid_config_exits_3_and_changes_nothing(store: Store, dev: Path) -> None:
    job = dev / "environments/dev/jobs/invoices.yaml"
    job.write_text(job.read_text().replace('"0 2 * * *"', '"0 2 * * * *"'))
    result = _reconcile(dev)
    assert result.exit_code == 3 and "invalid-cron" in result.stderr
    assert store.writes == 0


def test_a_foreign_object_is_a_difference_never_in_sync(store: Store, dev: Path) -> None:
    assert _reconcile(dev).exit_code == 0
    key = next(k for k in store.resources if k.name.endswith("payments"))
    store.resources[key] = replace(store.resources[key], managed=False, meta={})
    writes = store.writes
    dry = _reconcile(dev, "--dry-run", "--exit-code")
    assert dry.exit_code == 4 and "is in sync" not in dry.stdout
    assert f"! {key}" in dry.stdout and "not managed by Salam" in dry.stdout
    applied = _reconcile(dev)
    assert applied.exit_code == 1 and "not managed by Salam" in applied.output
    assert store.writes == writes and not store.resources[key].managed
