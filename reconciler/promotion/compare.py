"""How two environments' plans differ job by job: what promoting one to the other would change.

Called by ``reconcile compare`` (:mod:`reconciler.cli.compare`, which renders it as text or
JSON) and by the web UI's compare page (:mod:`reconciler.web.compare`): one comparison, two
renderings. Both environments' plans are rendered (no git, no backend is read) and compared
job by job: the fields that differ (``from -> to``), and the jobs only one side has. A
difference that only says *which environment* it is, is not shown. The rule, in order:

1. ``environment`` and every ``bookkeeping.*`` field are never compared (they name the
   environment, the config file, its hash and the plan digest).
2. Strings are compared with each environment's name, as a whole word (not inside a longer run
   of letters and digits), replaced by ``<env>`` on both sides: ``salam-uat-payments`` and
   ``salam-prod-payments``, ``environments/uat/jobs/x.yaml`` and ``…/prod/…``,
   ``registry.uat.example.com`` and ``registry.prod.example.com`` are the same.
3. A field that holds, on each side, its own environment's ``environment.yaml`` value is the
   same: ``temporal.namespace``, ``temporal.task_queue`` (the default queue or one of
   ``temporal.task_queues``), ``kubernetes.namespace`` / ``image`` / ``service_account``.

Everything else is shown with the real values. A list (the command line) is compared element
by element: ``execution_command[8]: "1g" -> "2g"``, or a slice where elements were added or
removed. An environment that does not load raises the loader's error.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingestion.config import loader
from ingestion.plan import environment as plans_of
from reconciler import output
from reconciler.diff import field_changes
from reconciler.model import FieldChange
from reconciler.promotion import bindings

IGNORED = ("environment", "bookkeeping")
PLACEHOLDER = "<env>"
OWN_SETTING = "<this environment's setting>"
ENV_OWNED: dict[tuple[str, ...], tuple[tuple[str, ...], ...]] = {
    ("temporal", "namespace"): (("temporal", "namespace"),),
    ("temporal", "task_queue"): (("temporal", "default_task_queue"), ("temporal", "task_queues")),
    ("kubernetes", "namespace"): (("kubernetes", "namespace"),),
    ("kubernetes", "image"): (("kubernetes", "image"),),
    ("kubernetes", "service_account"): (("kubernetes", "service_account"),),
}
RULES = (
    "environment and bookkeeping.* are not compared",
    "each environment's name, as a whole word in a string, reads as <env> on both sides",
    "temporal.namespace, temporal.task_queue and kubernetes.namespace/image/service_account "
    "holding each side's own environment.yaml value are the same",
)

STATUSES = ("same", "differs", "only-from", "only-to")


@dataclass(frozen=True)
class JobComparison:
    """One job: ``same``, ``differs``, ``only-from`` or ``only-to``, with its field changes."""

    job: str
    status: str
    modes: tuple[str | None, str | None]
    fields: tuple[FieldChange, ...] = field(default=())


def between(root: Path, source: str, target: str) -> list[JobComparison]:
    """Load two environments of the project at ``root`` and compare them (:func:`compare`)."""
    return compare(loader.load_environment(root, source), loader.load_environment(root, target))


def compare(source: loader.Environment, target: loader.Environment) -> list[JobComparison]:
    """Every job of either environment, in name order, compared by the rule above."""
    before = plans_of.render_all(source, with_git=False)
    after = plans_of.render_all(target, with_git=False)
    names = (source.name, target.name)
    jobs = []
    for job in sorted(before.keys() | after.keys()):
        a, b = before.get(job), after.get(job)
        modes = (_mode(a), _mode(b))
        if a is None or b is None:
            jobs.append(JobComparison(job, "only-to" if a is None else "only-from", modes))
            continue
        changes = tuple(plan_changes(a, b, names, (source.settings, target.settings)))
        jobs.append(JobComparison(job, "differs" if changes else "same", modes, changes))
    return jobs


def _mode(plan: Mapping[str, Any] | None) -> str | None:
    return str(plan["mode"]) if plan is not None else None


def plan_changes(
    a: Mapping[str, Any],
    b: Mapping[str, Any],
    names: tuple[str, str],
    settings: tuple[Mapping[str, Any], Mapping[str, Any]],
) -> Iterator[FieldChange]:
    """The field changes from plan ``a`` to plan ``b`` that are not explained by the rule."""
    plain_a, plain_b = _compared(a), _compared(b)
    normal = {
        change.path: change
        for change in field_changes(
            _normalized(plain_a, names, settings[0]), _normalized(plain_b, names, settings[1])
        )
    }
    for change in field_changes(plain_a, plain_b):
        if change.path not in normal:
            continue
        if isinstance(change.before, list) and isinstance(change.after, list):
            yield from _list_changes(change, normal[change.path])
        else:
            yield change


def _compared(plan: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in plan.items() if k not in IGNORED}


def _normalized(
    plan: Mapping[str, Any], names: tuple[str, str], settings: Mapping[str, Any]
) -> dict[str, Any]:
    result = {k: _substitute(v, names) for k, v in plan.items()}
    for path, setting_paths in ENV_OWNED.items():
        value = _at(plan, path)
        owned = [_at(settings, s) for s in setting_paths]
        if value is not None and any(value == o or _member(value, o) for o in owned):
            _put(result, path, OWN_SETTING)
    return result


def _substitute(value: Any, names: Sequence[str]) -> Any:
    if isinstance(value, str):
        for name in names:
            value = bindings.names_environment(name).sub(PLACEHOLDER, value)
        return value
    if isinstance(value, Mapping):
        return {k: _substitute(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, names) for v in value]
    return value


def _member(value: Any, owned: Any) -> bool:
    return isinstance(owned, list) and value in owned


def _at(document: Mapping[str, Any], path: Sequence[str]) -> Any:
    current: Any = document
    for key in path:
        if not isinstance(current, Mapping):
            return None
        current = current.get(key)
    return current


def _put(document: dict[str, Any], path: Sequence[str], value: Any) -> None:
    current = document
    for key in path[:-1]:
        current = current[key]
    current[path[-1]] = value


def _list_changes(raw: FieldChange, normal: FieldChange) -> Iterator[FieldChange]:
    """Element-level changes of a list, aligned on the normalized elements."""
    before, after = list(raw.before), list(raw.after)
    keys_a = [output.value(v) for v in normal.before]
    keys_b = [output.value(v) for v in normal.after]
    matcher = difflib.SequenceMatcher(a=keys_a, b=keys_b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        if tag == "replace" and i2 - i1 == j2 - j1:
            for offset in range(i2 - i1):
                index = i1 + offset
                yield FieldChange(f"{raw.path}[{index}]", before[index], after[j1 + offset])
        else:
            yield FieldChange(f"{raw.path}[{i1}:{i2}]", before[i1:i2], after[j1:j2])


def document(source: str, target: str, jobs: Sequence[JobComparison]) -> dict[str, Any]:
    return {
        "from": source,
        "to": target,
        "rules": list(RULES),
        "jobs": [
            {
                "job": j.job,
                "status": j.status,
                "mode": {"from": j.modes[0], "to": j.modes[1]},
                "fields": [{"path": f.path, "from": f.before, "to": f.after} for f in j.fields],
            }
            for j in jobs
        ],
        "summary": counts(jobs),
    }


def counts(jobs: Sequence[JobComparison]) -> dict[str, int]:
    """How many jobs have each status (every status, zeros too)."""
    return {s: sum(j.status == s for j in jobs) for s in STATUSES}
