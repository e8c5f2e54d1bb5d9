"""Policy decisions: an environment and its rendered plans in, located diagnostics out.

Inputs, one per job and one for the environment: ``{"environment", "environment_settings",
"job", "plan"}`` for the ``salam.job`` packages, ``{"environment", "environment_settings",
"jobs"}`` for the ``salam.environment`` packages; :mod:`.findings` reads what they answer.
:func:`decide` is what ``reconcile`` and ``reconcile validate`` call: a deny is an ERROR
diagnostic, a warn a WARNING, coded with the rule id and located at the offending key through
:mod:`.locations` (the job config or environment.yaml, a waiver in the policy data, or a policy
file); a deny (or a warn with ``fail_on_warn``) raises :class:`PolicyDenied`, a
:class:`ConfigError` (exit 3) that still carries the waivers applied, listed on the
:class:`PolicyReport` as :class:`AppliedWaiver`. The engine failing is never a diagnostic:
:class:`~reconciler.policy.files.PolicyError` (exit 1) names the rule and the policy file.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from ingestion.config.diagnostics import ConfigError, Diagnostic, Location, Severity, json_path
from ingestion.config.loader import Environment, JobConfig
from reconciler.policy import locations, rego
from reconciler.policy.files import policy_dir
from reconciler.policy.findings import Decision, Violation, evaluate_input
from reconciler.policy.locations import Sources

Plans = Mapping[str, Mapping[str, Any]]
MAX_THREADS = 4
JOBS_PER_THREAD = 100


@dataclass(frozen=True)
class AppliedWaiver:
    """A deny or warn that a documented exception waived: the finding, the reason, the waiver."""

    finding: Diagnostic
    reason: str
    waiver: Location

    def render(self) -> str:
        d = self.finding
        return (
            f"{d.location}: waived[{d.code}] {d.path}: {d.summary}; "
            f"waiver {self.waiver}: {self.reason}"
        )

    def to_json(self) -> dict[str, object]:
        where = self.waiver
        waiver = {"file": where.file, "line": where.line, "column": where.column}
        return {**self.finding.to_json(), "reason": self.reason, "waiver": waiver}


@dataclass
class PolicyReport:
    """An environment's evaluation: diagnostics (deny = error, warn = warning) and waivers."""

    diagnostics: list[Diagnostic] = field(default_factory=list)
    waived: list[AppliedWaiver] = field(default_factory=list)

    def blocks(self, fail_on_warn: bool = False) -> bool:
        return any(d.severity is Severity.ERROR for d in self.diagnostics) or bool(
            fail_on_warn and self.diagnostics
        )

    def waivers_json(self) -> list[dict[str, object]]:
        return [waiver.to_json() for waiver in self.waived]

    def waivers_text(self) -> str:
        """One line per applied waiver, or an empty string."""
        return "".join(f"{waiver.render()}\n" for waiver in self.waived)


class PolicyDenied(ConfigError):
    """A deny (or a warn with ``--fail-on-warn``): exit 3, with the report and its waivers."""

    def __init__(self, report: PolicyReport) -> None:
        super().__init__(report.diagnostics)
        self.report = report


def decide(environment: Environment, plans: Plans, fail_on_warn: bool = False) -> PolicyReport:
    """Evaluate and block: raise :class:`PolicyDenied` on a deny (or a warn with
    ``fail_on_warn``), :class:`PolicyError` when the engine fails; otherwise the report (warnings
    to show, waivers applied)."""
    report = check(environment, plans)
    if report.blocks(fail_on_warn):
        raise PolicyDenied(report)
    return report


def enforce(environment: Environment, plans: Plans, fail_on_warn: bool = False) -> list[Diagnostic]:
    """:func:`decide`, returning only the warnings to show."""
    return decide(environment, plans, fail_on_warn).diagnostics


def evaluate(environment: Environment, plans: Plans) -> list[Diagnostic]:
    """Deny → ERROR, warn → WARNING diagnostics for the environment and each planned job.

    No ``policies/`` directory under the environment's root means no policies. Raises
    :class:`PolicyError` when a policy file is broken or the engine fails.
    """
    return check(environment, plans).diagnostics


def check(environment: Environment, plans: Plans) -> PolicyReport:
    """Like :func:`evaluate`, also returning the violations documented exceptions waived."""
    report = PolicyReport()
    directory = policy_dir(environment.root)
    if not directory.is_dir():
        return report
    settings = rego.plain(environment.settings)
    jobs = [job for job in environment.jobs if job.name in plans]
    with rego.borrowed(environment.root, environment.name, _threads(len(jobs))) as bundles:
        sources = Sources(
            locations.environment_file(environment),
            locations.policy_data(directory, environment.name),
            bundles[0].packages,
        )
        names = [job.name for job in environment.jobs]
        env_doc = environment_input(environment.name, settings, names)
        _collect(report, evaluate_input(bundles[0], rego.ENVIRONMENT_ENTRYPOINT, env_doc), sources)
        decisions = _job_decisions(bundles, environment.name, settings, jobs, plans)
    for job, decision in zip(jobs, decisions, strict=True):
        _collect(report, decision, sources.with_input(locations.job_config(job)))
    report.diagnostics.sort(key=_diagnostic_order)
    return report


def _threads(jobs: int) -> int:
    """How many threads evaluate ``jobs`` jobs: one per CPU, up to :data:`MAX_THREADS`, and one
    per :data:`JOBS_PER_THREAD` jobs (a bundle costs a compile, worth it only for many jobs)."""
    return max(1, min(len(os.sched_getaffinity(0)), MAX_THREADS, jobs // JOBS_PER_THREAD))


def _job_decisions(
    bundles: Sequence[rego.Bundle],
    env: str,
    settings: Any,
    jobs: Sequence[JobConfig],
    plans: Plans,
) -> list[Decision]:
    """Each job's decision, in the order of ``jobs``: consecutive slices of them evaluated at
    once, one thread and bundle each (the first engine failure is raised). Each thread reads its
    jobs' plans: plans rendered when first read (:class:`ingestion.plan.environment.Plans`) are
    rendered there, beside the other threads' evaluations."""

    def evaluate(bundle: rego.Bundle, part: Sequence[JobConfig]) -> list[Decision]:
        return [
            evaluate_input(
                bundle,
                rego.JOB_ENTRYPOINT,
                job_input(env, settings, job.data, plans[job.name]),
                job.name,
            )
            for job in part
        ]

    if not jobs:
        return []
    size = -(-len(jobs) // len(bundles))  # ceiling
    parts = [jobs[i : i + size] for i in range(0, len(jobs), size)]
    if len(parts) == 1:
        return evaluate(bundles[0], parts[0])
    with ThreadPoolExecutor(len(parts), thread_name_prefix="policy") as pool:
        done = list(pool.map(evaluate, bundles, parts))
    return [decision for part in done for decision in part]


def environment_input(env: str, settings: Any, jobs: Iterable[str]) -> dict[str, Any]:
    """The input document of the environment-wide evaluation: every job of the environment,
    also when a run is narrowed to some of them (``--job``, ``--changed-since``)."""
    return {"environment": env, "environment_settings": settings, "jobs": sorted(jobs)}


def job_input(
    env: str, settings: Any, job: Mapping[str, Any], plan: Mapping[str, Any]
) -> dict[str, Any]:
    """The input document of one job's evaluation."""
    return {"environment": env, "environment_settings": settings, "job": job, "plan": plan}


def _collect(report: PolicyReport, decision: Decision, sources: Sources) -> None:
    report.diagnostics.extend(diagnostic(v, sources) for v in decision.violations)
    for waived in decision.waived:
        waiver = waived.waiver
        where = sources.locate(waiver.anchor, waiver.path, waiver.package)
        finding = diagnostic(waived.violation, sources)
        report.waived.append(AppliedWaiver(finding, waiver.reason, where))


def diagnostic(violation: Violation, sources: Sources) -> Diagnostic:
    """A violation located through ``sources``; its JSON path is the key's, or ``$``."""
    who = f"job '{violation.job}'" if violation.job else "environment"
    return Diagnostic(
        code=violation.rule,
        summary=f"{who}: {violation.message}",
        location=sources.locate(violation.anchor, violation.path, violation.package),
        path=json_path(violation.path) if violation.path is not None else "$",
        hint=violation.hint,
        severity=violation.severity,
    )


def _diagnostic_order(d: Diagnostic) -> tuple[Any, ...]:
    return (d.location, d.severity != Severity.ERROR, d.code, d.summary)
