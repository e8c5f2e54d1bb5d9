"""The names a job goes by in its environment, and the check that no two jobs share one.

A job is known by its ``name`` and by its schedule id: the Temporal schedule's ``workflow_id``,
the Airflow ``dag_id``, or ``salam-<env>-<job>``. Both must be unique per environment. The
loader takes the names of every job file that parsed, valid or not (:func:`of`), and
:func:`clashes` reports each name an earlier file already took, located at the key that names it
(``workflow_id:``, ``dag_id:``, or the job's ``name:``) and naming where the first one is.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ingestion.config import secrets
from ingestion.config.diagnostics import Diagnostic, Location, json_path
from ingestion.config.modes import Mode
from ingestion.config.yamlsource import PathKey

Locate = Callable[[PathKey], Location]
_OWN_IDS = {Mode.TEMPORAL: "workflow_id", Mode.AIRFLOW: "dag_id"}  # a mode's own id key


@dataclass(frozen=True)
class Name:
    """One name of one job: what it is, its value, and where it is written."""

    kind: str  # "job name", "schedule id" or "DAG id"
    space: str  # "job" or "schedule": names in one space must differ
    value: str
    path: PathKey
    location: Location

    @property
    def code(self) -> str:
        return {"job name": "duplicate-job", "DAG id": "duplicate-dag-id"}.get(
            self.kind, "duplicate-schedule-id"
        )


def schedule_id(environment: str, data: Mapping[str, Any]) -> tuple[str, PathKey, str]:
    """The schedule id of a merged job config, the path it is written at (the job's ``name``
    when it is derived) and what it is called; for any config, valid or not."""
    runtime = data.get("runtime")
    orchestration = runtime.get("orchestration") if isinstance(runtime, Mapping) else None
    orchestration = orchestration if isinstance(orchestration, Mapping) else {}
    mode = next((m for m in Mode if m.value == orchestration.get("mode")), None)
    kind = "DAG id" if mode is Mode.AIRFLOW else "schedule id"
    if mode in _OWN_IDS:
        block, key = orchestration.get(mode.block), _OWN_IDS[mode]
        if isinstance(block, Mapping) and isinstance(block.get(key), str) and block[key]:
            return block[key], ("runtime", "orchestration", mode.block, key), kind
    return f"salam-{environment}-{data.get('name')}", ("name",), kind


def of(environment: str, data: Mapping[str, Any], locate: Locate) -> tuple[Name, ...]:
    """The job name and schedule id of a merged job config (none without a string name)."""
    name = data.get("name")
    if not isinstance(name, str):
        return ()
    value, path, kind = schedule_id(environment, data)
    return (
        Name("job name", "job", name, ("name",), locate(("name",))),
        Name(kind, "schedule", value, path, locate(path)),
    )


def clashes(files: Sequence[Sequence[Name]]) -> tuple[list[Diagnostic], set[int]]:
    """A diagnostic for every name an earlier file took, and the indexes of the files that
    took a name already taken."""
    first: dict[tuple[str, str], Location] = {}
    found: list[Diagnostic] = []
    clashing: set[int] = set()
    for index, names in enumerate(files):
        for name in names:
            taken = first.get((name.space, name.value))
            if taken is None:
                first[(name.space, name.value)] = name.location
                continue
            shown = secrets.shown(name.value)
            summary = f"{name.kind} {shown + ' ' if shown else ''}is also used by {taken}"
            hint = f"give each job its own {name.kind}"
            found.append(Diagnostic(name.code, summary, name.location, json_path(name.path), hint))
            clashing.add(index)
    return found, clashing
