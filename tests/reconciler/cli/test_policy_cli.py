"""``reconcile policy test`` and policy enforcement in ``reconcile validate``."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from reconciler import policy
from tests.conftest import ROOT, TESTDATA, assert_golden, run_reconcile
from tests.reconciler.policy_helpers import compliant_prod, edit, with_policies


@pytest.fixture(autouse=True)
def _fresh_bundles() -> None:
    policy.clear_cache()


def test_shipped_policy_tests_pass() -> None:
    result = run_reconcile("policy", "test", "--root", str(ROOT))
    assert result.exit_code == 0, result.output
    assert_golden(result.stdout, TESTDATA / "policy" / "policy_test.txt")


def test_broken_fixture_fails_with_exit_1(tmp_path: Path) -> None:
    root = with_policies(tmp_path)
    fixture = root / "policies" / "tests" / "fixtures" / "prod_temporal_compliant.yaml"
    fixture.write_text(
        fixture.read_text(encoding="utf-8").replace("  deny: []", "  deny: [SALAM-OWNER]"),
        encoding="utf-8",
    )
    result = run_reconcile("policy", "test", "--root", str(root))
    assert result.exit_code == 1
    assert (
        "FAIL  fixture prod_temporal_compliant  (policies/tests/fixtures/"
        "prod_temporal_compliant.yaml): deny: expected ['SALAM-OWNER'], got []"
    ) in result.stdout
    assert result.stdout.rstrip().endswith("24 passed, 1 failed")


def test_failing_rego_test_rule_fails_with_exit_1(tmp_path: Path) -> None:
    root = with_policies(tmp_path)
    (root / "policies" / "tests" / "wrong_test.rego").write_text(
        "package tests.salam.wrong\n\nimport data.salam.lib\nimport rego.v1\n\n"
        'test_hourly_is_every_minute if lib.min_interval_minutes("0 * * * *") == 1\n',
        encoding="utf-8",
    )
    result = run_reconcile("policy", "test", "--root", str(root))
    assert result.exit_code == 1
    assert "FAIL  data.tests.salam.wrong.test_hourly_is_every_minute" in result.stdout


def test_broken_policy_file_is_named_and_exit_1(tmp_path: Path) -> None:
    root = with_policies(tmp_path)
    (root / "policies" / "job" / "broken.rego").write_text(
        "package salam.job.broken\n\ndeny contains msg if {\n", encoding="utf-8"
    )
    result = run_reconcile("policy", "test", "--root", str(root))
    assert result.exit_code == 1
    assert "policies/job/broken.rego" in result.output


def _prod(project: Callable[..., Path]) -> Path:
    root = with_policies(project("prod"))
    compliant_prod(root)
    return root


def test_validate_passes_a_compliant_environment(project: Callable[..., Path]) -> None:
    root = _prod(project)
    assert run_reconcile("validate", "--env", "prod", "--root", str(root)).exit_code == 0


def test_validate_deny_exits_3_with_rule_job_and_message(project: Callable[..., Path]) -> None:
    root = _prod(project)
    edit(root, "prod", "network_events", lambda t: t.replace('"*/30 * * * *"', '"*/5 * * * *"'))
    result = run_reconcile("validate", "--env", "prod", "--root", str(root), "-o", "json")
    assert result.exit_code == 3
    document = json.loads(result.stdout)
    assert document["ok"] is False
    assert [
        (d["severity"], d["code"], d["file"], d["summary"]) for d in document["diagnostics"]
    ] == [
        (
            "error",
            "SALAM-PROD-SCHEDULE-FREQUENCY",
            "environments/prod/jobs/network_events.yaml",
            "job 'network_events': schedule '*/5 * * * *' fires every 5 minute(s); "
            "at least 15 required in prod",
        )
    ]


def test_validate_text_lists_the_deny(project: Callable[..., Path]) -> None:
    root = _prod(project)
    edit(root, "prod", "network_events", lambda t: t.replace('"*/30 * * * *"', '"*/5 * * * *"'))
    result = run_reconcile("validate", "--env", "prod", "--root", str(root))
    assert result.exit_code == 3
    assert "error[SALAM-PROD-SCHEDULE-FREQUENCY]" in result.output
    assert "job 'network_events'" in result.output


def test_warn_does_not_block_unless_fail_on_warn(project: Callable[..., Path]) -> None:
    root = _prod(project)
    edit(root, "prod", "payments", lambda t: t.replace("owner: finance-data", "owner: treasury"))
    args = ("validate", "--env", "prod", "--root", str(root), "-o", "json")
    warned = run_reconcile(*args)
    assert warned.exit_code == 0
    assert [d["code"] for d in json.loads(warned.stdout)["diagnostics"]] == ["SALAM-OWNER-UNKNOWN"]
    assert run_reconcile(*args, "--fail-on-warn").exit_code == 3
