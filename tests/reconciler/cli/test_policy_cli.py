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
    assert result.stdout.rstrip().endswith("38 passed, 1 failed")


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


def _other_namespace(root: Path) -> None:
    """Move dev (environment.yaml and every job naming it) to the namespace ingestion-other."""
    for path in sorted((root / "environments" / "dev").rglob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace("ingestion-dev", "ingestion-other"), encoding="utf-8")


def test_namespace_deny_reaches_the_user_instead_of_a_json_crash(
    project: Callable[..., Path],
) -> None:
    # Issue 13 item 8: regopy's sprintf wrote the expected namespace (made by replace()) with
    # its quotes inside the message and broke the JSON of the result: "unexpected
    # JSONDecodeError", exit 1. The deny must reach the user, located at the offending key.
    root = with_policies(project("dev"))
    _other_namespace(root)
    result = run_reconcile("validate", "--env", "dev", "--root", str(root), "-o", "json")
    assert "JSONDecodeError" not in result.output
    assert result.exit_code == 3, result.output
    found = [
        (d["code"], d["file"], d["line"] > 0 and d["column"] > 0, d["path"], d["summary"])
        for d in json.loads(result.stdout)["diagnostics"]
    ]
    jobs = "environments/dev/jobs"
    temporal = "$.runtime.orchestration.temporal.namespace"
    is_not = "'ingestion-other' is not 'ingestion-dev'"
    assert found == [
        (
            "SALAM-TEMPORAL-NAMESPACE",
            "environments/dev/environment.yaml",
            True,
            "$.temporal.namespace",
            f"environment: temporal.namespace {is_not}",
        ),
        (
            "SALAM-K8S-NAMESPACE",
            "environments/dev/environment.yaml",
            True,
            "$.kubernetes.namespace",
            f"environment: kubernetes.namespace {is_not}",
        ),
        (
            "SALAM-TEMPORAL-NAMESPACE",
            f"{jobs}/miniboss_bss.yaml",
            True,
            temporal,
            f"job 'miniboss_bss': Temporal namespace {is_not}",
        ),
        (
            "SALAM-K8S-NAMESPACE",
            f"{jobs}/network_events.yaml",
            True,
            "$.runtime.orchestration.kubernetes.namespace",
            f"job 'network_events': Kubernetes namespace {is_not}",
        ),
        (
            "SALAM-TEMPORAL-NAMESPACE",
            f"{jobs}/usage_records.yaml",
            True,
            temporal,
            f"job 'usage_records': Temporal namespace {is_not}",
        ),
    ]


def test_namespace_deny_text_points_at_the_key(project: Callable[..., Path]) -> None:
    root = with_policies(project("dev"))
    _other_namespace(root)
    result = run_reconcile("validate", "--env", "dev", "--root", str(root))
    assert result.exit_code == 3, result.output
    env_yaml = (root / "environments" / "dev" / "environment.yaml").read_text(encoding="utf-8")
    line = env_yaml.splitlines().index("  namespace: ingestion-other") + 1
    assert (
        f"environments/dev/environment.yaml:{line}:3: error[SALAM-TEMPORAL-NAMESPACE] "
        "$.temporal.namespace: environment: temporal.namespace 'ingestion-other' is not "
        "'ingestion-dev'"
    ) in result.output


# --- reconcile policy test --output json (issue 13 item 11) -----------------------------------


def test_policy_test_json_is_one_envelope(tmp_path: Path) -> None:
    root = with_policies(tmp_path)
    fixture = root / "policies" / "tests" / "fixtures" / "prod_temporal_compliant.yaml"
    fixture.write_text(
        fixture.read_text(encoding="utf-8").replace("  deny: []", "  deny: [SALAM-OWNER]"),
        encoding="utf-8",
    )
    result = run_reconcile("policy", "test", "--root", str(root), "--output", "json")
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert (document["command"], document["ok"], document["exit_code"]) == ("policy test", False, 1)
    assert (document["passed"], document["failed"]) == (38, 1)
    [failed] = [t for t in document["tests"] if not t["passed"]]
    assert failed == {
        "name": "fixture prod_temporal_compliant",
        "source": "policies/tests/fixtures/prod_temporal_compliant.yaml",
        "passed": False,
        "detail": "deny: expected ['SALAM-OWNER'], got []",
    }


def test_policy_test_json_passes_on_the_shipped_policies() -> None:
    result = run_reconcile("policy", "test", "--root", str(ROOT), "-o", "json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["ok"] is True and document["failed"] == 0
    assert len(document["tests"]) == document["passed"] > 0


def test_policy_test_json_broken_policy_is_an_error_envelope(tmp_path: Path) -> None:
    root = with_policies(tmp_path)
    (root / "policies" / "job" / "broken.rego").write_text(
        "package salam.job.broken\n\ndeny contains msg if {\n", encoding="utf-8"
    )
    result = run_reconcile("policy", "test", "--root", str(root), "-o", "json")
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["ok"] is False
    assert "policies/job/broken.rego" in document["error"]["message"]


# --- Engine failures and waivers through reconcile validate (issue 13 item 8) -----------------


# regopy's sprintf writes a builtin-made string with its JSON quotes: the result is not JSON
SPRINTF_POLICY = (
    "package salam.job.quoting\n\nimport data.salam.lib\nimport rego.v1\n\n"
    'deny contains lib.finding("SALAM-QUOTING", msg) if {\n'
    "\tmsg := sprintf(\"namespace '%s' is wrong\", [lib.expected_namespace])\n}\n"
)


def test_engine_failure_exits_1_naming_the_rule_and_file(project: Callable[..., Path]) -> None:
    root = with_policies(project("dev"))
    (root / "policies" / "job" / "quoting.rego").write_text(SPRINTF_POLICY, encoding="utf-8")
    result = run_reconcile("validate", "--env", "dev", "--root", str(root), "-o", "json")
    assert result.exit_code == 1, result.output
    message = json.loads(result.stdout)["error"]["message"]
    assert "data.salam.job.quoting.deny[SALAM-QUOTING] (policies/job/quoting.rego)" in message
    assert "not valid JSON" in message
    assert "JSONDecodeError" not in result.output


def test_waiver_without_reason_exits_3_located(project: Callable[..., Path]) -> None:
    root = _prod(project)
    edit(root, "prod", "invoices", lambda t: t.replace("count: 3", "count: 1"))
    data = root / "policies" / "data" / "prod.yaml"
    text = data.read_text(encoding="utf-8").replace(
        "waivers: []", "waivers:\n  - job: invoices\n    rules: [SALAM-PROD-RETRIES]\n"
    )
    data.write_text(text, encoding="utf-8")
    line = text.splitlines().index("  - job: invoices") + 1
    result = run_reconcile("validate", "--env", "prod", "--root", str(root))
    assert result.exit_code == 3, result.output
    assert (
        f"policies/data/prod.yaml:{line}:5: error[SALAM-POLICY-EXCEPTION] $.waivers[0]: "
        "job 'invoices': exception [\"SALAM-PROD-RETRIES\"] has no reason"
    ) in result.output
    assert "error[SALAM-PROD-RETRIES]" in result.output


def test_validate_lists_the_waivers_applied(project: Callable[..., Path]) -> None:
    root = _prod(project)
    edit(root, "prod", "invoices", lambda t: t.replace("count: 3", "count: 1"))
    data = root / "policies" / "data" / "prod.yaml"
    data.write_text(
        data.read_text(encoding="utf-8").replace(
            "waivers: []",
            "waivers:\n  - job: invoices\n    rules: [SALAM-PROD-RETRIES]\n    reason: DAG (D-1)\n",
        ),
        encoding="utf-8",
    )
    text = run_reconcile("validate", "--env", "prod", "--root", str(root))
    assert text.exit_code == 0, text.output
    assert (
        "environments/prod/jobs/invoices.yaml:30:9: waived[SALAM-PROD-RETRIES] "
        "$.runtime.orchestration.external.retries.count: job 'invoices': retries 1 < 3 "
        "required in prod; waiver policies/data/prod.yaml:8:5: DAG (D-1)"
    ) in text.stdout
    as_json = run_reconcile("validate", "--env", "prod", "--root", str(root), "-o", "json")
    [waiver] = json.loads(as_json.stdout)["waivers"]
    assert (waiver["code"], waiver["line"], waiver["reason"], waiver["waiver"]) == (
        "SALAM-PROD-RETRIES",
        30,
        "DAG (D-1)",
        {"file": "policies/data/prod.yaml", "line": 8, "column": 5},
    )


def test_engine_failure_is_a_plain_error_message(project: Callable[..., Path]) -> None:
    root = with_policies(project("dev"))
    (root / "policies" / "job" / "quoting.rego").write_text(SPRINTF_POLICY, encoding="utf-8")
    result = run_reconcile("validate", "--env", "dev", "--root", str(root))
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "Error: policy engine failure in data.salam.job.quoting.deny[SALAM-QUOTING] "
        "(policies/job/quoting.rego) evaluating job 'invoices': its result is not valid JSON\n"
        "  hint: rego-cpp wrote a string unescaped"
    )
