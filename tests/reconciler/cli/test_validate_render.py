"""``reconcile validate`` and ``reconcile render``: exit codes, the JSON envelope, staleness."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_reconcile


@pytest.mark.parametrize("env", ["dev", "uat", "prod"])
def test_committed_environments_validate(env: str) -> None:
    result = run_reconcile("validate", "--env", env, "--root", str(ROOT), "--output", "json")
    document = json.loads(result.stdout)
    assert result.exit_code == 0
    assert (
        document["ok"] is True and document["exit_code"] == 0 and document["command"] == "validate"
    )
    assert len(document["jobs"]) >= 5


def test_usage_error_is_exit_2() -> None:
    assert run_reconcile("validate").exit_code == 2


def test_render_writes_then_check_passes_then_detects_stale(project: Callable[..., Path]) -> None:
    root = project("dev")
    rendered = root / "manifests" / "rendered" / "dev"

    assert run_reconcile("render", "--env", "dev", "--root", str(root), "--check").exit_code == 4
    assert run_reconcile("render", "--env", "dev", "--root", str(root)).exit_code == 0
    assert sorted(p.stem for p in rendered.glob("*.json")) == sorted(
        p.stem for p in (root / "environments" / "dev" / "jobs").glob("*.yaml")
    )
    assert run_reconcile("render", "--env", "dev", "--root", str(root), "--check").exit_code == 0

    job = root / "environments" / "dev" / "jobs" / "payments.yaml"
    job.write_text(job.read_text().replace('expression: "30 3 * * *"', 'expression: "45 3 * * *"'))
    (rendered / "retired_job.json").write_text("{}\n")
    (root / "environments" / "dev" / "jobs" / "tariff_catalog.yaml").unlink()

    result = run_reconcile(
        "render", "--env", "dev", "--root", str(root), "--check", "--output", "json"
    )
    document = json.loads(result.stdout)
    assert result.exit_code == 4
    assert document["changed"] == ["payments.json"]
    assert document["extra"] == ["retired_job.json", "tariff_catalog.json"]
    assert document["missing"] == []

    assert run_reconcile("render", "--env", "dev", "--root", str(root)).exit_code == 0
    assert not (rendered / "retired_job.json").exists()
    assert "45 3 * * *" in (rendered / "payments.json").read_text()


def test_rendered_files_carry_no_git_fields_and_are_stable(project: Callable[..., Path]) -> None:
    root = project("dev")
    run_reconcile("render", "--env", "dev", "--root", str(root))
    first = {p.name: p.read_bytes() for p in (root / "manifests/rendered/dev").glob("*.json")}
    run_reconcile("render", "--env", "dev", "--root", str(root))
    second = {p.name: p.read_bytes() for p in (root / "manifests/rendered/dev").glob("*.json")}
    assert first == second
    plan = json.loads(first["miniboss_bss.json"])
    assert "git_revision" not in plan["bookkeeping"] and "digest" in plan["bookkeeping"]


def test_invalid_config_json_envelope(project: Callable[..., Path]) -> None:
    root = project("dev")
    job = root / "environments" / "dev" / "jobs" / "payments.yaml"
    job.write_text(job.read_text().replace("mode: informatica", "mode: informatika"))
    result = run_reconcile("validate", "--env", "dev", "--root", str(root), "--output", "json")
    document = json.loads(result.stdout)
    assert result.exit_code == 3
    assert document["ok"] is False and document["exit_code"] == 3
    [diagnostic] = document["diagnostics"]
    assert diagnostic["file"] == "environments/dev/jobs/payments.yaml"
    assert diagnostic["path"] == "$.runtime.orchestration.mode"
    assert diagnostic["line"] > 0 and diagnostic["column"] > 0
    assert diagnostic["hint"] == "did you mean 'informatica'?"
