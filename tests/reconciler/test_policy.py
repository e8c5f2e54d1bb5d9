"""The policy evaluator: committed environments, deny / warn / exception with golden output,
broken policies and malformed policy output."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from ingestion.config.diagnostics import Severity
from reconciler import policy
from reconciler.policy import evaluation, findings, rego
from tests.conftest import ROOT, TESTDATA, assert_golden, run_reconcile
from tests.reconciler.policy_helpers import compliant_prod, edit, load, with_policies

GOLDEN = TESTDATA / "policy"


@pytest.fixture(autouse=True)
def _fresh_bundles() -> None:
    policy.clear_cache()


@pytest.mark.parametrize("env", ["dev", "uat", "prod"])
def test_committed_environments_pass(env: str) -> None:
    environment, rendered = load(ROOT, env)
    assert policy.evaluate(environment, rendered) == []


def _violations(root: Path) -> None:
    compliant_prod(root)
    edit(root, "prod", "network_events", lambda t: t.replace('"*/30 * * * *"', '"*/5 * * * *"'))
    edit(
        root,
        "prod",
        "usage_records",
        lambda t: t.replace("catchup_window: 2h", "catchup_window: 48h"),
    )
    edit(root, "prod", "payments", lambda t: t.replace("owner: finance-data", "owner: treasury"))
    edit(root, "prod", "invoices", lambda t: t.replace("count: 3", "count: 1"))
    edit(
        root,
        "prod",
        "network_events",
        lambda t: t.replace(
            "credentials_secret:", "concurrency_policy: Allow\n      credentials_secret:"
        ),
    )
    edit(
        root,
        "prod",
        "miniboss_bss",
        lambda t: t.replace("maximum_attempts: 5", "maximum_attempts: 2"),
    )


def test_deny_warn_and_exception_golden(project: Callable[..., Path]) -> None:
    root = with_policies(project("prod"))
    _violations(root)
    data = root / "policies" / "data" / "prod.yaml"
    data.write_text(
        data.read_text(encoding="utf-8").replace(
            "waivers: []",
            "waivers:\n  - job: invoices\n    rules: [SALAM-PROD-RETRIES]\n"
            "    reason: Airflow retries at the DAG level (DATA-42).\n",
        ),
        encoding="utf-8",
    )
    environment, rendered = load(root, "prod")
    report = policy.check(environment, rendered)
    lines = [d.render() for d in report.diagnostics]
    lines += [waiver.render() for waiver in report.waived]
    assert_golden("\n".join(lines) + "\n", GOLDEN / "prod_violations.txt")
    severities = {d.code: d.severity for d in report.diagnostics}
    assert severities["SALAM-PROD-SCHEDULE-FREQUENCY"] is Severity.ERROR
    assert severities["SALAM-OWNER-UNKNOWN"] is Severity.WARNING


def test_secret_value_in_a_plan_is_denied_without_echoing_it(
    project: Callable[..., Path],
) -> None:
    # The loader already rejects literal secrets in configs; the policy is defence in depth
    # against a secret reaching a plan (here: injected into the rendered command).
    root = with_policies(project("dev"))
    environment, rendered = load(root, "dev")
    rendered["payments"]["execution_command"] = [
        *rendered["payments"]["execution_command"],  # type: ignore[misc]
        "--jdbc-url=jdbc:postgresql://ingest:Sup3rS3cret@db:5432/x",
    ]
    found = policy.evaluate(environment, rendered)
    assert [(d.code, d.location.file) for d in found] == [
        ("SALAM-SECRET-VALUE", "environments/dev/jobs/payments.yaml")
    ]
    assert "a URL with a password" in found[0].summary
    assert all("Sup3rS3cret" not in d.render() for d in found)


def test_exception_without_reason_is_an_error(project: Callable[..., Path]) -> None:
    root = with_policies(project("dev"))
    (root / "policies" / "job" / "bad_waiver.rego").write_text(
        "package salam.job.bad_waiver\n\nimport rego.v1\n\n"
        'exception contains ["SALAM-OWNER"] if input.plan.job == "payments"\n',
        encoding="utf-8",
    )
    environment, rendered = load(root, "dev")
    found = policy.evaluate(environment, rendered)
    # An exception written in policy code is located at its policy file.
    assert [(d.code, d.location.file, d.summary) for d in found] == [
        (
            "SALAM-POLICY-EXCEPTION",
            "policies/job/bad_waiver.rego",
            "job 'payments': exception [\"SALAM-OWNER\"] has no reason: exceptions must be "
            '{"rules": [...], "reason": "..."}',
        )
    ]


def test_message_without_rule_id_is_an_error(project: Callable[..., Path]) -> None:
    root = with_policies(project("dev"))
    (root / "policies" / "job" / "plain.rego").write_text(
        "package salam.job.plain\n\nimport rego.v1\n\n"
        'deny contains "no id" if input.plan.job == "payments"\n',
        encoding="utf-8",
    )
    environment, rendered = load(root, "dev")
    assert [d.code for d in policy.evaluate(environment, rendered)] == ["SALAM-POLICY-MALFORMED"]


def test_broken_policy_file_is_named(project: Callable[..., Path]) -> None:
    root = with_policies(project("dev"))
    (root / "policies" / "job" / "broken.rego").write_text(
        "package salam.job.broken\n\ndeny contains msg if {\n", encoding="utf-8"
    )
    environment, rendered = load(root, "dev")
    with pytest.raises(policy.PolicyError, match=r"policies/job/broken\.rego"):
        policy.evaluate(environment, rendered)


def test_broken_policy_data_is_named(project: Callable[..., Path]) -> None:
    root = with_policies(project("dev"))
    (root / "policies" / "data" / "dev.yaml").write_text("waivers: [\n", encoding="utf-8")
    environment, rendered = load(root, "dev")
    with pytest.raises(policy.PolicyError, match=r"data/dev\.yaml"):
        policy.evaluate(environment, rendered)


def test_no_policy_directory_means_no_policies(project: Callable[..., Path]) -> None:
    environment, rendered = load(project("dev"), "dev")
    assert policy.evaluate(environment, rendered) == []


def test_compiled_policies_are_reused_and_lent_to_one_borrower_at_a_time() -> None:
    # while the first is lent, two more are built
    with rego.borrowed(ROOT, "dev") as [first], rego.borrowed(ROOT, "dev", 2) as others:
        assert first not in others and others[0] is not others[1]
    with rego.borrowed(ROOT, "dev", 3) as again:  # all three back, none built anew
        assert {id(b) for b in again} == {id(first), *map(id, others)}
    with rego.borrowed(ROOT, "prod") as [prod]:
        assert prod not in again


@pytest.mark.parametrize("threads", [1, 2])
def test_an_environment_without_jobs_is_still_checked(
    project: Callable[..., Path], monkeypatch: pytest.MonkeyPatch, threads: int
) -> None:
    # environment-wide rules still run (a namespace not the environment's); no job decision
    monkeypatch.setattr(evaluation, "_threads", lambda jobs: threads)
    root = with_policies(project("dev", jobs=False))
    settings = root / "environments/dev/environment.yaml"
    text = settings.read_text(encoding="utf-8")
    settings.write_text(text.replace("namespace: ingestion-dev", "namespace: elsewhere", 1))
    environment, rendered = load(root, "dev")
    assert not environment.jobs and not rendered
    found = policy.evaluate(environment, rendered)
    assert [d.code for d in found] == ["SALAM-TEMPORAL-NAMESPACE"]


def test_params_merge_defaults_with_environment() -> None:
    params = policy.load_params(ROOT / "policies", "prod")
    assert params["production"]["min_retries"] == 3
    assert params["temporal"]["max_catchup_window_seconds"] == 86400
    assert policy.load_params(ROOT / "policies", "dev")["production"] == {}


# --- Engine failures are PolicyErrors naming the rule and the file (issue 13 item 8) ----------

QUOTING_POLICY = """package salam.job.quoting

import data.salam.lib
import rego.v1

deny contains lib.finding("SALAM-QUOTING", msg) if {
	input.plan.job == "payments"
	msg := sprintf("namespace '%s' is wrong", [lib.expected_namespace])
}
"""


def test_result_that_is_not_json_names_the_rule_and_file(project: Callable[..., Path]) -> None:
    # rego-cpp's sprintf writes a string made by a builtin (replace) with its quotes: the
    # result regopy parses is not JSON. That was "unexpected JSONDecodeError"; now it is an
    # engine failure naming the rule id, the package rule, the file and the job.
    root = with_policies(project("dev"))
    (root / "policies" / "job" / "quoting.rego").write_text(QUOTING_POLICY, encoding="utf-8")
    environment, rendered = load(root, "dev")
    with pytest.raises(policy.PolicyError) as caught:
        policy.evaluate(environment, rendered)
    assert caught.value.message == (
        "policy engine failure in data.salam.job.quoting.deny[SALAM-QUOTING] "
        "(policies/job/quoting.rego) evaluating job 'payments': its result is not valid JSON"
    )
    assert "build messages with concat" in caught.value.hint
    assert not isinstance(caught.value.__cause__, ValueError)


def test_evaluation_error_names_the_rule_and_file(project: Callable[..., Path]) -> None:
    root = with_policies(project("dev"))
    (root / "policies" / "job" / "conflict.rego").write_text(
        "package salam.job.conflict\n\nimport data.salam.lib\nimport rego.v1\n\n"
        'deny contains lib.finding("SALAM-CONFLICT", _size) if input.plan.job\n\n'
        '_size := "small" if input.plan.job\n\n_size := "large" if input.plan.job\n',
        encoding="utf-8",
    )
    environment, rendered = load(root, "dev")
    with pytest.raises(
        policy.PolicyError,
        match=r"^policy engine failure in data\.salam\.job\.conflict\.deny "
        r"\(policies/job/conflict\.rego\) evaluating job 'invoices': evaluation failed$",
    ):
        policy.evaluate(environment, rendered)


def test_input_strings_holding_quotes_and_backslashes_survive() -> None:
    # regopy's Input(dict) kept such strings unescaped and its result was not JSON either.
    queue = 'odd "queue" \\ name'
    plan = {"job": "j", "temporal": {"namespace": "ingestion-dev", "task_queue": queue}}
    document = evaluation.job_input(
        "dev", {"temporal": {"task_queues": ["q1", 'q"2']}}, {"name": "j", "owner": "x"}, plan
    )
    with rego.borrowed(ROOT, "dev") as [bundle]:
        decision = findings.evaluate_input(bundle, rego.JOB_ENTRYPOINT, document, "j")
    messages = {v.rule: v.message for v in decision.violations}
    assert messages["SALAM-TEMPORAL-TASK-QUEUE"] == (
        f"task queue '{queue}' is not one of the environment's task_queues (q1, q\"2)"
    )


# --- Findings point at the offending key (issue 13 item 5) ------------------------------------


def test_secret_finding_names_the_key_path() -> None:
    job = {"name": "j", "owner": "finance-data", "source": {"tables": [{"password": "hunter2"}]}}
    document = evaluation.job_input("dev", {}, job, {"job": "j"})
    with rego.borrowed(ROOT, "dev") as [bundle]:
        decision = findings.evaluate_input(bundle, rego.JOB_ENTRYPOINT, document, "j")
    assert [(v.rule, v.path, v.message) for v in decision.violations] == [
        (
            "SALAM-SECRET-VALUE",
            ("source", "tables", 0, "password"),
            "job: key 'password' holds a literal value, not a reference",
        )
    ]


def test_inherited_value_is_located_in_environment_defaults(project: Callable[..., Path]) -> None:
    # payments inherits its owner from environment.yaml's defaults: the warning points there.
    root = with_policies(project("dev"))
    edit(root, "dev", "payments", lambda t: t.replace("owner: finance-data\n", ""))
    env_file = root / "environments" / "dev" / "environment.yaml"
    text = env_file.read_text(encoding="utf-8")
    env_file.write_text(
        text.replace("  owner: bss-data-platform", "  owner: treasury"), encoding="utf-8"
    )
    line = text.splitlines().index("  owner: bss-data-platform") + 1
    environment, rendered = load(root, "dev")
    assert [
        (d.code, str(d.location), d.path, d.summary) for d in policy.evaluate(environment, rendered)
    ] == [
        (
            "SALAM-OWNER-UNKNOWN",
            f"environments/dev/environment.yaml:{line}:3",
            "$.owner",
            "job 'payments': owner 'treasury' is not a known team (policies/data: teams)",
        )
    ]


def test_path_that_is_not_a_list_of_keys_is_malformed(project: Callable[..., Path]) -> None:
    root = with_policies(project("dev"))
    (root / "policies" / "job" / "bad_path.rego").write_text(
        "package salam.job.bad_path\n\nimport rego.v1\n\n"
        'deny contains {"rule": "SALAM-X", "msg": "m", "path": "owner"} '
        'if input.plan.job == "payments"\n',
        encoding="utf-8",
    )
    environment, rendered = load(root, "dev")
    assert [(d.code, str(d.location)) for d in policy.evaluate(environment, rendered)] == [
        ("SALAM-POLICY-MALFORMED", "policies/job/bad_path.rego")
    ]


# --- Waivers: a reason is required, and applied ones are reported ----------------------------


def _waive(root: Path, waiver: str) -> int:
    """Write one waiver into policies/data/prod.yaml; the line the waiver starts on."""
    data = root / "policies" / "data" / "prod.yaml"
    text = data.read_text(encoding="utf-8").replace("waivers: []", f"waivers:\n{waiver}")
    data.write_text(text, encoding="utf-8")
    return text.splitlines().index("waivers:") + 2


def test_waiver_without_reason_is_located_in_the_data_file(project: Callable[..., Path]) -> None:
    root = with_policies(project("prod"))
    compliant_prod(root)
    edit(root, "prod", "invoices", lambda t: t.replace("count: 3", "count: 1"))
    line = _waive(root, "  - job: invoices\n    rules: [SALAM-PROD-RETRIES]\n")
    environment, rendered = load(root, "prod")
    with pytest.raises(policy.PolicyDenied) as caught:
        policy.decide(environment, rendered)
    assert [(d.code, str(d.location), d.path) for d in caught.value.diagnostics] == [
        (
            "SALAM-PROD-RETRIES",
            "environments/prod/jobs/invoices.yaml:30:9",
            "$.runtime.orchestration.external.retries.count",
        ),
        ("SALAM-POLICY-EXCEPTION", f"policies/data/prod.yaml:{line}:5", "$.waivers[0]"),
    ]
    assert caught.value.report.waived == []


def test_decide_reports_the_waivers_it_applied(project: Callable[..., Path]) -> None:
    root = with_policies(project("prod"))
    compliant_prod(root)
    edit(root, "prod", "invoices", lambda t: t.replace("count: 3", "count: 1"))
    line = _waive(
        root, "  - job: invoices\n    rules: [SALAM-PROD-RETRIES]\n    reason: DAG retries (D-1)\n"
    )
    environment, rendered = load(root, "prod")
    report = policy.decide(environment, rendered)
    assert report.diagnostics == []
    assert report.waivers_text() == (
        "environments/prod/jobs/invoices.yaml:30:9: waived[SALAM-PROD-RETRIES] "
        "$.runtime.orchestration.external.retries.count: job 'invoices': retries 1 < 3 "
        f"required in prod; waiver policies/data/prod.yaml:{line}:5: DAG retries (D-1)\n"
    )
    [waiver] = report.waivers_json()
    assert (waiver["code"], waiver["reason"], waiver["waiver"]) == (
        "SALAM-PROD-RETRIES",
        "DAG retries (D-1)",
        {"file": "policies/data/prod.yaml", "line": line, "column": 5},
    )
    # A deny elsewhere still carries the waivers applied, for the command to list them.
    edit(root, "prod", "payments", lambda t: t.replace("owner: finance-data", "owner: treasury"))
    environment, rendered = load(root, "prod")
    with pytest.raises(policy.PolicyDenied) as caught:
        policy.decide(environment, rendered, fail_on_warn=True)
    assert [w.finding.code for w in caught.value.report.waived] == ["SALAM-PROD-RETRIES"]


def test_an_engine_that_cannot_load_is_an_error_naming_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A minimal machine lacking a library regopy links: found building the image (libatomic)."""
    monkeypatch.setitem(sys.modules, "regopy", None)  # importing it raises ImportError
    result = run_reconcile("validate", "--env", "dev", "--root", str(ROOT))
    assert result.exit_code == 1, result.output
    assert "the Rego engine (regopy) cannot load" in result.output
    assert "libatomic1" in result.output
    assert "AttributeError" not in result.output
