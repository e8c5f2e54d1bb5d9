"""``reconcile compare --from uat --to prod``: job-by-job differences, the environment-name rule,
jobs on one side only, text and JSON output, exit codes."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from reconciler.promotion.compare import OWN_SETTING, plan_changes
from tests.conftest import ROOT, clone_job, run_reconcile


def compare(root: Path, *args: str) -> tuple[int, str]:
    result = run_reconcile("compare", "--root", str(root), *args)
    return result.exit_code, result.stdout


def jobs(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {j["job"]: j for j in document["jobs"]}


def fields(job: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    return {f["path"]: (f["from"], f["to"]) for f in job["fields"]}


def test_committed_uat_to_prod_hides_environment_names() -> None:
    code, out = compare(ROOT, "--from", "uat", "--to", "prod", "--output", "json")
    assert code == 0, out
    document = json.loads(out)
    assert document["from"] == "uat" and document["to"] == "prod"
    every = {path for job in document["jobs"] for path in fields(job)}
    for hidden in ("environment", "schedule_id", "temporal.namespace", "temporal.task_queue"):
        assert hidden not in every
    assert not any(p.startswith("bookkeeping") or p.startswith("kubernetes.image") for p in every)
    network = fields(jobs(document)["network_events"])
    assert network == {"kubernetes.backoff_limit": (1, 3), "retries.count": (1, 3)}
    invoices = fields(jobs(document)["invoices"])
    assert invoices["execution_command[8]"] == ("1g", "2g")  # --driver-memory
    assert "execution_command[6]" not in invoices  # --name salam-uat-… / salam-prod-…


def test_changed_added_and_removed_jobs(project: Callable[..., Path]) -> None:
    root = project("uat", "prod")
    prod = root / "environments" / "prod" / "jobs"
    payments = prod / "payments.yaml"
    payments.write_text(payments.read_text().replace('"30 3 * * *"', '"45 4 * * *"'))
    (prod / "tariff_catalog.yaml").unlink()
    (prod / "payments_eu.yaml").write_text(
        clone_job(payments.read_text(), "payments", "payments_eu")
    )
    code, out = compare(root, "--from", "uat", "--to", "prod", "--output", "json", "--exit-code")
    assert code == 4
    found = jobs(json.loads(out))
    assert found["payments"]["status"] == "differs"
    assert fields(found["payments"])["schedule.cron"] == ("30 3 * * *", "45 4 * * *")
    assert found["tariff_catalog"]["status"] == "only-from"
    assert found["payments_eu"]["status"] == "only-to"
    assert found["payments_eu"]["mode"] == {"from": None, "to": "informatica"}

    code, text = compare(root, "--from", "uat", "--to", "prod")
    assert code == 0
    assert '      ~ schedule.cron: "30 3 * * *" -> "45 4 * * *"\n' in text
    assert "  - tariff_catalog (external_scheduler): only in uat\n" in text
    assert "  + payments_eu (informatica): only in prod\n" in text


def test_identical_environments_are_the_same(project: Callable[..., Path]) -> None:
    root = project("uat")
    copy = root / "environments" / "qa"
    copy.mkdir()
    source = root / "environments" / "uat"
    for path in [*source.rglob("*.yaml"), source / "spark.lock"]:  # the same jars, locked
        target = copy / path.relative_to(source)
        target.parent.mkdir(parents=True, exist_ok=True)
        text = path.read_text().replace("environment: uat", "environment: qa")
        target.write_text(
            text.replace("-uat", "-qa").replace("/uat", "/qa").replace(".uat.", ".qa.")
        )
    code, out = compare(root, "--from", "uat", "--to", "qa", "--exit-code")
    assert code == 0, out
    assert "0 differ, 7 the same" in out


def test_unknown_environment_is_an_error() -> None:
    result = run_reconcile("compare", "--root", str(ROOT), "--from", "uat", "--to", "nope")
    assert result.exit_code in (1, 3)
    assert "nope" in result.output


def test_missing_option_is_a_usage_error() -> None:
    assert run_reconcile("compare", "--from", "uat").exit_code == 2


PLAN = {
    "environment": "a",
    "temporal": {"namespace": "ns-one", "task_queue": "q-one"},
    "execution_command": ["run", "--name", "salam-dev-job", "/dev/null", "--mem", "1g"],
    "bookkeeping": {"environment": "a", "digest": "x"},
}


def other(**temporal: str) -> dict[str, Any]:
    return {
        "environment": "b",
        "temporal": {"namespace": "ns-two", "task_queue": "q-two", **temporal},
        "execution_command": ["run", "--name", "salam-prod-job", "/dev/null", "--mem", "2g"],
        "bookkeeping": {"environment": "b", "digest": "y"},
    }


SETTINGS = (
    {"temporal": {"namespace": "ns-one", "default_task_queue": "q-one"}},
    {"temporal": {"namespace": "ns-two", "default_task_queue": "q-main", "task_queues": ["q-two"]}},
)


def test_rule_environment_owned_values_and_names() -> None:
    changes = list(plan_changes(PLAN, other(), ("dev", "prod"), SETTINGS))
    assert [(c.path, c.before, c.after) for c in changes] == [("execution_command[5]", "1g", "2g")]


def test_rule_value_not_the_environments_own_is_shown() -> None:
    changes = list(plan_changes(PLAN, other(namespace="ns-elsewhere"), ("dev", "prod"), SETTINGS))
    paths = {c.path: (c.before, c.after) for c in changes}
    assert paths["temporal.namespace"] == ("ns-one", "ns-elsewhere")
    assert OWN_SETTING not in json.dumps([str(c) for c in changes])


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        (["a", "b", "c"], ["a", "x", "c"], [("cmd[1]", "b", "x")]),
        (["a", "c"], ["a", "b", "c"], [("cmd[1:1]", [], ["b"])]),
        (["a", "b", "c"], ["a"], [("cmd[1:3]", ["b", "c"], [])]),
    ],
)
def test_lists_are_compared_element_by_element(
    before: list[str], after: list[str], expected: list[tuple[str, Any, Any]]
) -> None:
    changes = plan_changes({"cmd": before}, {"cmd": after}, ("uat", "prod"), ({}, {}))
    assert [(c.path, c.before, c.after) for c in changes] == expected
