"""The bad-input corpus: every broken config is refused with exit 3, located, actionable
diagnostics (golden output), all at once, without echoing a secret and without writing anything."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import TESTDATA, assert_golden, run_reconcile

BAD = TESTDATA / "config" / "bad"
CASES = sorted(p.stem for p in BAD.glob("*.yaml"))


def _with_job(project: Callable[..., Path], case: str) -> Path:
    root = project("dev", jobs=False)
    shutil.copy(BAD / f"{case}.yaml", root / "environments" / "dev" / "jobs" / f"{case}.yaml")
    return root


@pytest.mark.parametrize("case", CASES)
def test_bad_job_config_is_refused_with_located_diagnostics(
    project: Callable[..., Path], case: str
) -> None:
    root = _with_job(project, case)
    before = sorted(p.relative_to(root) for p in root.rglob("*"))

    result = run_reconcile("validate", "--env", "dev", "--root", str(root))

    assert result.exit_code == 3, result.output
    assert f"environments/dev/jobs/{case}.yaml:" in result.stderr
    assert_golden(result.stderr, BAD / f"{case}.golden")
    assert sorted(p.relative_to(root) for p in root.rglob("*")) == before


def test_all_problems_are_reported_at_once(project: Callable[..., Path]) -> None:
    root = _with_job(project, "wrong_types")
    result = run_reconcile("validate", "--env", "dev", "--root", str(root))
    assert result.stderr.count("error[") >= 3


def test_secret_values_never_appear_in_errors(project: Callable[..., Path]) -> None:
    root = _with_job(project, "literal_secrets")
    for fmt in ("text", "json"):
        result = run_reconcile("validate", "--env", "dev", "--root", str(root), "--output", fmt)
        assert result.exit_code == 3
        for secret in ("S3cretPassw0rd", "hunter2-literal", "XXXXsecretXXXX"):
            assert secret not in result.output + result.stderr


def test_misspelt_key_gets_did_you_mean(project: Callable[..., Path]) -> None:
    root = _with_job(project, "unknown_keys")
    result = run_reconcile("validate", "--env", "dev", "--root", str(root), "--output", "json")
    document = json.loads(result.stdout)
    hints = {d["path"]: d["hint"] for d in document["diagnostics"]}
    assert hints["$.targt"] == "did you mean 'target'?"
    assert hints["$.runtime.orchestration.tempral"] == "did you mean 'temporal'?"


def test_duplicate_job_names_across_files(project: Callable[..., Path]) -> None:
    root = project("dev")
    jobs = root / "environments" / "dev" / "jobs"
    shutil.copy(jobs / "payments.yaml", jobs / "payments_copy.yaml")
    result = run_reconcile("validate", "--env", "dev", "--root", str(root))
    assert result.exit_code == 3
    assert (
        "job name 'payments' is also used by environments/dev/jobs/payments.yaml" in result.stderr
    )
    assert "duplicate-schedule-id" in result.stderr


def test_unknown_environment_lists_the_known_ones(project: Callable[..., Path]) -> None:
    root = project("dev", "prod")
    result = run_reconcile("validate", "--env", "staging", "--root", str(root))
    assert result.exit_code == 3
    assert "no environment 'staging'" in result.stderr
    assert "known environments: dev, prod" in result.stderr


def test_empty_jobs_directory_is_a_warning(project: Callable[..., Path]) -> None:
    root = project("dev", jobs=False)
    result = run_reconcile("validate", "--env", "dev", "--root", str(root))
    assert result.exit_code == 0
    assert "warning[no-jobs]" in result.stderr
    assert "0 job(s)" in result.stdout


def test_environment_name_must_match_its_directory(project: Callable[..., Path]) -> None:
    root = project("dev")
    settings = root / "environments" / "dev" / "environment.yaml"
    settings.write_text(settings.read_text().replace("environment: dev", "environment: prod"))
    result = run_reconcile("validate", "--env", "dev", "--root", str(root))
    assert result.exit_code == 3
    assert "environment.yaml:3:1: error[name-mismatch]" in result.stderr


def test_an_smtp_user_name_needs_a_password_reference(project: Callable[..., Path]) -> None:
    root = project("dev")
    settings = root / "environments" / "dev" / "environment.yaml"
    settings.write_text(
        settings.read_text() + "smtp:\n  host: mail.example.org\n  username: alerts\n"
    )
    result = run_reconcile("validate", "--env", "dev", "--root", str(root))
    assert result.exit_code == 3
    assert "error[missing-key] $.smtp: 'username' needs 'password_ref'" in result.stderr
