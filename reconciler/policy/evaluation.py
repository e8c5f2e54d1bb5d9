"""Policy decisions: an environment and its rendered plans in, diagnostics out.

Conftest conventions: one package per topic under ``salam.job`` (evaluated once per job, input
``{"environment", "environment_settings", "job", "plan"}``) or ``salam.environment`` (evaluated
once per environment, input ``{"environment", "environment_settings", "jobs"}``); ``deny`` and
``warn`` sets of ``{"rule", "job", "msg"[, "hint"]}`` objects (:class:`Violation`);
``exception`` sets of ``{"rules": [...], "reason": "..."}`` objects waiving rule ids for that
input. :func:`enforce` is what ``reconcile`` and ``reconcile validate`` call: a deny is an ERROR
diagnostic, a warn a WARNING, coded with the rule id and located at the job's config file.
Malformed policy output is itself an error diagnostic; a broken policy file raises
:class:`PolicyError`, which :func:`enforce` turns into a :class:`ConfigError`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ingestion.config.diagnostics import ConfigError, Diagnostic, Location, Severity
from ingestion.config.loader import ENVIRONMENTS_DIR, Environment
from reconciler.policy import rego
from reconciler.policy.files import PolicyError, policy_dir

MALFORMED = "SALAM-POLICY-MALFORMED"
BAD_EXCEPTION = "SALAM-POLICY-EXCEPTION"
UNWAIVABLE = frozenset({MALFORMED, BAD_EXCEPTION})
Plans = Mapping[str, Mapping[str, Any]]


@dataclass(frozen=True)
class Violation:
    """One deny or warn produced for one input, before it becomes a diagnostic."""

    rule: str
    job: str
    message: str
    severity: Severity
    hint: str = ""


@dataclass(frozen=True)
class Waived:
    """A violation a documented exception waived, with the exception's reason."""

    violation: Violation
    reason: str


@dataclass
class Decision:
    """What one input produced: violations that stand and violations waived."""

    violations: list[Violation] = field(default_factory=list)
    waived: list[Waived] = field(default_factory=list)


@dataclass
class PolicyReport:
    """An environment's evaluation: diagnostics (deny = error, warn = warning) and waivers."""

    diagnostics: list[Diagnostic] = field(default_factory=list)
    waived: list[tuple[str, Waived]] = field(default_factory=list)


def enforce(environment: Environment, plans: Plans, fail_on_warn: bool = False) -> list[Diagnostic]:
    """Evaluate and block: raise :class:`ConfigError` on a deny (or a warn with ``fail_on_warn``)
    or a broken policy file; otherwise return the warnings to show."""
    try:
        found = evaluate(environment, plans)
    except PolicyError as exc:
        where = Location(str(policy_dir(environment.root).name))
        raise ConfigError(
            [Diagnostic("policy-error", str(exc), where, hint="fix the policy file")]
        ) from exc
    if any(d.severity is Severity.ERROR for d in found) or (fail_on_warn and found):
        raise ConfigError(found)
    return found


def evaluate(environment: Environment, plans: Plans) -> list[Diagnostic]:
    """Deny → ERROR, warn → WARNING diagnostics for the environment and each planned job.

    No ``policies/`` directory under the environment's root means no policies. Raises
    :class:`PolicyError` when a policy file is broken.
    """
    return check(environment, plans).diagnostics


def check(environment: Environment, plans: Plans) -> PolicyReport:
    """Like :func:`evaluate`, also returning the violations documented exceptions waived."""
    report = PolicyReport()
    if not policy_dir(environment.root).is_dir():
        return report
    bundle = rego.compiled(environment.root, environment.name)
    settings = rego.plain(environment.settings)
    env_file = f"{ENVIRONMENTS_DIR}/{environment.name}/environment.yaml"
    env_doc = environment_input(environment.name, settings, plans)
    _collect(report, env_file, evaluate_input(bundle, rego.ENVIRONMENT_ENTRYPOINT, env_doc))
    for job in environment.jobs:
        if job.name in plans:
            doc = job_input(environment.name, settings, job.data, plans[job.name])
            _collect(report, job.path, evaluate_input(bundle, rego.JOB_ENTRYPOINT, doc, job.name))
    report.diagnostics.sort(key=_diagnostic_order)
    return report


def environment_input(env: str, settings: Any, plans: Plans) -> dict[str, Any]:
    """The input document of the environment-wide evaluation."""
    return {"environment": env, "environment_settings": settings, "jobs": sorted(plans)}


def job_input(
    env: str, settings: Any, job: Mapping[str, Any], plan: Mapping[str, Any]
) -> dict[str, Any]:
    """The input document of one job's evaluation."""
    return {"environment": env, "environment_settings": settings, "job": job, "plan": plan}


def evaluate_input(
    bundle: rego.Bundle, entrypoint: str, document: Mapping[str, Any], job: str = ""
) -> Decision:
    """Evaluate one input: violations left after exceptions, and the waived ones."""
    found = _gather(bundle.query(entrypoint, document) or {})
    waivers, bad = _waivers(found["exception"], job)
    decision = Decision(violations=bad)
    for severity, key in ((Severity.ERROR, "deny"), (Severity.WARNING, "warn")):
        for value in found[key]:
            _decide(decision, _violation(value, severity, job), waivers)
    decision.violations.sort(key=lambda v: (v.severity != Severity.ERROR, v.rule, v.message))
    return decision


def diagnostic(file: str, violation: Violation) -> Diagnostic:
    who = f"job '{violation.job}'" if violation.job else "environment"
    return Diagnostic(
        code=violation.rule,
        summary=f"{who}: {violation.message}",
        location=Location(file),
        path="$",
        hint=violation.hint,
        severity=violation.severity,
    )


def _gather(node: Any) -> dict[str, list[Any]]:
    """deny, warn and exception values of every package below ``node`` (nested packages too)."""
    found: dict[str, list[Any]] = {"deny": [], "warn": [], "exception": []}
    for key, value in _walk_packages(node):
        found[key].extend(value)
    return found


def _walk_packages(node: Any) -> Iterator[tuple[str, list[Any]]]:
    if not isinstance(node, dict):
        return
    for key, value in sorted(node.items()):
        if key in ("deny", "warn", "exception") and isinstance(value, list):
            yield key, value
        elif isinstance(value, dict):
            yield from _walk_packages(value)


def _waivers(values: list[Any], job: str) -> tuple[dict[str, str], list[Violation]]:
    """Rule id → reason of the valid exceptions, and a violation for each invalid one."""
    waivers: dict[str, str] = {}
    bad: list[Violation] = []
    for value in values:
        if _valid_exception(value):
            for rule in value["rules"]:
                waivers.setdefault(rule, value["reason"])
        else:
            bad.append(_bad_exception(value, job))
    return waivers, bad


def _decide(decision: Decision, violation: Violation, waivers: Mapping[str, str]) -> None:
    if violation.rule in waivers and violation.rule not in UNWAIVABLE:
        decision.waived.append(Waived(violation, waivers[violation.rule]))
    else:
        decision.violations.append(violation)


def _violation(value: Any, severity: Severity, job: str) -> Violation:
    if (
        isinstance(value, dict)
        and isinstance(value.get("rule"), str)
        and value["rule"]
        and isinstance(value.get("msg"), str)
    ):
        hint = value["hint"] if isinstance(value.get("hint"), str) else ""
        return Violation(value["rule"], str(value.get("job") or job), value["msg"], severity, hint)
    return Violation(
        MALFORMED,
        job,
        "a policy produced a message without a rule id: messages must be "
        '{"rule": "SALAM-...", "job": "...", "msg": "..."}',
        Severity.ERROR,
    )


def _valid_exception(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and isinstance(value.get("rules"), list)
        and all(isinstance(rule, str) for rule in value["rules"])
        and isinstance(value.get("reason"), str)
        and bool(value["reason"].strip())
    )


def _bad_exception(value: Any, job: str) -> Violation:
    rules = value.get("rules") if isinstance(value, dict) else value
    return Violation(
        BAD_EXCEPTION,
        job,
        f"exception {json.dumps(rules)} has no reason: exceptions must be "
        '{"rules": [...], "reason": "..."}',
        Severity.ERROR,
    )


def _collect(report: PolicyReport, file: str, decision: Decision) -> None:
    report.diagnostics.extend(diagnostic(file, violation) for violation in decision.violations)
    report.waived.extend((file, waived) for waived in decision.waived)


def _diagnostic_order(d: Diagnostic) -> tuple[Any, ...]:
    return (d.location, d.severity != Severity.ERROR, d.code, d.summary)
