"""Findings: what the policies answered for one input, read by the conftest conventions.

:func:`evaluate_input` queries one entrypoint of a compiled :class:`~reconciler.policy.rego.Bundle`
(``salam/job`` for a job, ``salam/environment`` for the environment) and reads every package's
``deny`` and ``warn`` sets as :class:`Violation` objects (``{"rule", "job", "msg"[, "hint"][,
"path"]}``) and its ``exception`` set as :class:`Waiver` objects (``{"rules", "reason"[,
"path"]}``); a deny or warn whose rule id a valid exception names is :class:`Waived`. Nothing
is located here (:mod:`.evaluation` does it, through :mod:`.locations`): a violation keeps its
``path`` and the :class:`~reconciler.policy.locations.Anchor` saying which file the path is in.
What breaks the conventions is a violation too: ``SALAM-POLICY-MALFORMED`` (no rule id, a path
that is not a list of keys) and ``SALAM-POLICY-EXCEPTION`` (an exception without a reason),
neither of which can be waived. Called by :mod:`.evaluation`, :mod:`.testing` (fixture cases)
and ``bench/policy_eval.py``; the engine failing raises :class:`PolicyError` from the bundle.
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ingestion.config.diagnostics import Severity
from ingestion.config.yamlsource import PathKey
from reconciler.policy import prescan, rego
from reconciler.policy.locations import Anchor

MALFORMED = "SALAM-POLICY-MALFORMED"
BAD_EXCEPTION = "SALAM-POLICY-EXCEPTION"
UNWAIVABLE = frozenset({MALFORMED, BAD_EXCEPTION})
FINDING_SHAPE = '{"rule": "SALAM-...", "msg": "...", "path": [keys] (optional)}'
WAIVER_POSITIONS = "waiver_positions"


@dataclass(frozen=True)
class Violation:
    """One deny or warn produced for one input, before it is located."""

    rule: str
    job: str
    message: str
    severity: Severity
    hint: str = ""
    path: PathKey | None = None  # the offending key, in the file ``anchor`` names
    anchor: Anchor = Anchor.INPUT
    package: str = ""  # the Rego package that produced it


@dataclass(frozen=True)
class Waiver:
    """A valid exception: its reason, and where it is written (a path in the policy data, or
    only the package whose code produced it)."""

    reason: str
    path: PathKey | None = None
    package: str = ""

    @property
    def anchor(self) -> Anchor:
        return Anchor.POLICY if self.path is None else Anchor.DATA


@dataclass(frozen=True)
class Waived:
    """A violation a documented exception waived."""

    violation: Violation
    waiver: Waiver

    @property
    def reason(self) -> str:
        return self.waiver.reason


@dataclass
class Decision:
    """What one input produced: violations that stand and violations waived."""

    violations: list[Violation] = field(default_factory=list)
    waived: list[Waived] = field(default_factory=list)


def evaluate_input(
    bundle: rego.Bundle, entrypoint: str, document: Mapping[str, Any], job: str = ""
) -> Decision:
    """Evaluate one input: violations left after exceptions, and the waived ones.

    A job's input gets ``secret_scan``: its parts pruned to what the secret scan can match
    (:mod:`.prescan`), which the policy walks instead of the whole parts; and
    ``waiver_positions``: where in ``data.params.waivers`` the waivers naming its plan's job are,
    which ``policies/job/waivers.rego`` reads instead of every waiver."""
    if entrypoint == rego.JOB_ENTRYPOINT:
        scan = _scanner(bundle).scan(document)
        if scan is not None:
            document = {**document, prescan.SCAN_KEY: scan}
        plan = document.get("plan")
        job_of_plan = plan.get("job") if isinstance(plan, Mapping) else None
        positions = _waiver_index(bundle).get(job_of_plan, [])
        document = {**document, WAIVER_POSITIONS: positions}
    value = bundle.query(entrypoint, document, f"job '{job}'" if job else "the environment")
    prefix = entrypoint.replace("/", ".")
    found = list(_walk_packages(value or {}, prefix))
    waivers, bad = _waivers([(p, v) for p, key, v in found if key == "exception"], job)
    decision = Decision(violations=bad)
    for severity, kind in ((Severity.ERROR, "deny"), (Severity.WARNING, "warn")):
        for package, _, item in (entry for entry in found if entry[1] == kind):
            _decide(decision, _violation(item, severity, job, package), waivers)
    decision.violations.sort(key=lambda v: (v.severity != Severity.ERROR, v.rule, v.message))
    return decision


_INDEXES: weakref.WeakKeyDictionary[rego.Bundle, dict[Any, list[int]]] = weakref.WeakKeyDictionary()
_SCANNERS: weakref.WeakKeyDictionary[rego.Bundle, prescan.Scanner] = weakref.WeakKeyDictionary()


def _scanner(bundle: rego.Bundle) -> prescan.Scanner:
    """The secret scan's pre-selection from the bundle's policy data, made once per bundle."""
    scanner = _SCANNERS.get(bundle)
    if scanner is None:
        scanner = _SCANNERS[bundle] = prescan.Scanner(bundle.params)
    return scanner


def _waiver_index(bundle: rego.Bundle) -> dict[Any, list[int]]:
    """Job name → positions in the bundle's ``data.params.waivers`` of the waivers naming it
    (``job:``), made once per bundle: a job's evaluation then costs the same however many
    waivers the environment has."""
    index = _INDEXES.get(bundle)
    if index is None:
        waivers = bundle.params.get("waivers")
        index = {}
        for position, waiver in enumerate(waivers if isinstance(waivers, list) else []):
            if isinstance(waiver, Mapping) and isinstance(waiver.get("job"), str):
                index.setdefault(waiver["job"], []).append(position)
        _INDEXES[bundle] = index
    return index


def _walk_packages(node: Any, package: str) -> Iterator[tuple[str, str, Any]]:
    """(package, deny|warn|exception, value) of every package below ``node`` (nested too)."""
    if not isinstance(node, dict):
        return
    for key, value in sorted(node.items()):
        if key in rego.RULES and isinstance(value, list):
            yield from ((package, key, item) for item in value)
        elif isinstance(value, dict):
            yield from _walk_packages(value, f"{package}.{key}")


def _waivers(values: list[tuple[str, Any]], job: str) -> tuple[dict[str, Waiver], list[Violation]]:
    """Rule id → waiver of the valid exceptions, and a violation for each invalid one."""
    waivers: dict[str, Waiver] = {}
    bad: list[Violation] = []
    for package, value in values:
        path = _path(value.get("path")) if isinstance(value, dict) else None
        if _valid_exception(value):
            for rule in value["rules"]:
                waivers.setdefault(rule, Waiver(value["reason"], path, package))
        else:
            bad.append(_bad_exception(value, job, Waiver("", path, package)))
    return waivers, bad


def _decide(decision: Decision, violation: Violation, waivers: Mapping[str, Waiver]) -> None:
    if violation.rule in waivers and violation.rule not in UNWAIVABLE:
        decision.waived.append(Waived(violation, waivers[violation.rule]))
    else:
        decision.violations.append(violation)


def _violation(value: Any, severity: Severity, job: str, package: str) -> Violation:
    if not (
        isinstance(value, dict)
        and isinstance(value.get("rule"), str)
        and value["rule"]
        and isinstance(value.get("msg"), str)
    ):
        return _malformed(
            job, package, f"a finding without a rule id: findings must be {FINDING_SHAPE}"
        )
    path = _path(value.get("path"))
    if "path" in value and path is None:
        return _malformed(
            job,
            package,
            f"{value['rule']}: 'path' must be a list of keys and indices ({FINDING_SHAPE})",
        )
    hint = value["hint"] if isinstance(value.get("hint"), str) else ""
    return Violation(
        value["rule"],
        str(value.get("job") or job),
        value["msg"],
        severity,
        hint,
        path,
        package=package,
    )


def _path(value: Any) -> PathKey | None:
    """A finding's ``path`` as a key path, or None when absent or not a list of keys."""
    if not isinstance(value, list):
        return None
    keys = [p for p in value if isinstance(p, str) or (type(p) is int and p >= 0)]
    return tuple(keys) if len(keys) == len(value) else None


def _malformed(job: str, package: str, message: str) -> Violation:
    return Violation(MALFORMED, job, message, Severity.ERROR, anchor=Anchor.POLICY, package=package)


def _valid_exception(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and isinstance(value.get("rules"), list)
        and all(isinstance(rule, str) for rule in value["rules"])
        and isinstance(value.get("reason"), str)
        and bool(value["reason"].strip())
    )


def _bad_exception(value: Any, job: str, where: Waiver) -> Violation:
    rules = value.get("rules") if isinstance(value, dict) else value
    return Violation(
        BAD_EXCEPTION,
        job,
        f"exception {json.dumps(rules)} has no reason: exceptions must be "
        '{"rules": [...], "reason": "..."}',
        Severity.ERROR,
        hint="give the waiver a reason (and ideally a ticket)",
        path=where.path,
        anchor=where.anchor,
        package=where.package,
    )
