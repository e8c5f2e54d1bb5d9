"""The policies' own tests, run by ``reconcile policy test`` (:mod:`reconciler.cli.policy`).

Two kinds, one :class:`PolicyTestResult` each: every ``test_*`` rule of ``tests/*.rego``
(compiled with the policies and ``data/default.*`` params, passing when it is true), and every
fixture case of ``tests/fixtures/*.yaml`` (a whole job input evaluated exactly as
:func:`reconciler.policy.findings.evaluate_input` evaluates a job, passing when it produces
the expected deny, warn and waived rule ids). A broken test file or fixture is a failed result;
:func:`run_tests` raises :class:`PolicyError` only when the policies themselves do not compile.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingestion.config.diagnostics import Severity
from ingestion.config.merge import deep_merge
from reconciler.policy import evaluation, findings, rego
from reconciler.policy.files import (
    PolicyError,
    display_name,
    load_params,
    read_data,
    rego_test_files,
)

_PACKAGE = re.compile(r"^package\s+([\w.]+)", re.MULTILINE)
_TEST_RULE = re.compile(r"^(test_\w+)\b", re.MULTILINE)


@dataclass(frozen=True)
class PolicyTestResult:
    """One policy test: a Rego ``test_*`` rule or a fixture case."""

    name: str
    source: str
    passed: bool
    detail: str = ""


def run_tests(directory: Path) -> list[PolicyTestResult]:
    """Run every Rego test rule in ``tests/*.rego`` and every fixture in ``tests/fixtures``.

    Rego tests see ``data.params`` from ``data/default.*``; a fixture names its environment
    and is evaluated exactly as :func:`reconciler.policy.evaluate` would evaluate a job.
    """
    directory = directory.resolve()
    return [*_rego_tests(directory), *_fixture_tests(directory)]


# --- Rego test rules -------------------------------------------------------------------------


def _rego_tests(directory: Path) -> list[PolicyTestResult]:
    paths = rego_test_files(directory)
    if not paths:
        return []
    bundle = rego.Bundle(directory, load_params(directory, "default"), tests=True)
    return [result for path in paths for result in _rego_file(bundle, path, directory)]


def _rego_file(bundle: rego.Bundle, path: Path, directory: Path) -> list[PolicyTestResult]:
    text = path.read_text(encoding="utf-8")
    package = _PACKAGE.search(text)
    source = display_name(path, directory)
    if package is None:
        return [PolicyTestResult(source, source, False, "no package declaration")]
    names = dict.fromkeys(_TEST_RULE.findall(text))
    return [_rego_test(bundle, package.group(1), name, source) for name in names]


def _rego_test(bundle: rego.Bundle, package: str, name: str, source: str) -> PolicyTestResult:
    qualified = f"data.{package}.{name}"
    try:
        value = bundle.query_rule(qualified)
    except PolicyError as exc:
        return PolicyTestResult(qualified, source, False, str(exc))
    if value is True:
        return PolicyTestResult(qualified, source, True)
    return PolicyTestResult(qualified, source, False, "undefined or false")


# --- Fixture cases ---------------------------------------------------------------------------


def _fixture_tests(directory: Path) -> list[PolicyTestResult]:
    results = []
    for path in sorted((directory / "tests" / "fixtures").glob("*.y*ml")):
        source = display_name(path, directory)
        try:
            results.append(_fixture_test(directory, path, source))
        except PolicyError as exc:
            results.append(PolicyTestResult(f"fixture {path.stem}", source, False, str(exc)))
    return results


def _fixture_test(directory: Path, path: Path, source: str) -> PolicyTestResult:
    case = read_data(path)
    got = _fixture_outcome(directory, case)
    expect = case.get("expect") or {}
    want = {key: sorted(set(expect.get(key) or [])) for key in got}
    name = f"fixture {path.stem}"
    if got == want:
        return PolicyTestResult(name, source, True)
    diff = "; ".join(f"{k}: expected {want[k]}, got {got[k]}" for k in got if got[k] != want[k])
    return PolicyTestResult(name, source, False, diff)


def _fixture_outcome(directory: Path, case: dict[str, Any]) -> dict[str, list[str]]:
    """The deny, warn and waived rule ids a fixture case's job input produces."""
    env = str(case.get("environment", "dev"))
    params = deep_merge(load_params(directory, env), case.get("params") or {})
    job, plan = case.get("job") or {}, case.get("plan") or {}
    document = evaluation.job_input(env, case.get("environment_settings") or {}, job, plan)
    name = str(plan.get("job") or job.get("name") or "")
    bundle = rego.Bundle(directory, params)
    decision = findings.evaluate_input(bundle, rego.JOB_ENTRYPOINT, document, name)
    return {
        "deny": _rules(decision.violations, Severity.ERROR),
        "warn": _rules(decision.violations, Severity.WARNING),
        "waived": sorted({w.violation.rule for w in decision.waived}),
    }


def _rules(violations: list[findings.Violation], severity: Severity) -> list[str]:
    return sorted({v.rule for v in violations if v.severity is severity})
