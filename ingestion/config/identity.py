"""The names a job goes by in its environment, and the check that no two jobs share one.

A job is known by its ``name``, by its schedule id (the Temporal schedule's ``workflow_id``, the
Airflow ``dag_id``, or ``salam-<env>-<job>``), an Airflow job by its DAG file (``dag_file``, or
``salam_<env>_<job>.py``: :func:`default_dag_file`, the one derivation) and by the lake tables it
writes
(``<target.namespace>.<target.table_prefix><table>``, :func:`table_target`: the one derivation,
which the job's :func:`ingestion.job.source.load_tables` uses too). Each must be unique per
environment. The loader takes the names of every job file that parsed, valid or not (:func:`of`),
and :func:`clashes` reports each name an earlier file already took, located at the key that
names it (``workflow_id:``, ``dag_id:``, ``dag_file:``, the job's ``name:``, or the
``source.tables`` entry)
and naming where the first one is.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ingestion.config import secrets
from ingestion.config.diagnostics import Diagnostic, Location, json_path
from ingestion.config.modes import Mode
from ingestion.config.yamlsource import PathKey

Locate = Callable[[PathKey], Location]
_OWN_IDS = {Mode.TEMPORAL: "workflow_id", Mode.AIRFLOW: "dag_id"}  # a mode's own id key
DEFAULT_NAMESPACE = "default"
_CODES = {
    "job name": "duplicate-job",
    "DAG id": "duplicate-dag-id",
    "DAG file": "duplicate-dag-file",
    "lake table": "duplicate-target-table",
}


@dataclass(frozen=True)
class Name:
    """One name of one job: what it is, its value, and where it is written."""

    kind: str  # "job name", "schedule id", "DAG id", "DAG file" or "lake table"
    space: str  # "job", "schedule", "dag file" or "table": names in one space must differ
    value: str
    path: PathKey
    location: Location
    job: str = ""  # the job that goes by it

    @property
    def code(self) -> str:
        return _CODES.get(self.kind, "duplicate-schedule-id")


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


def default_dag_file(environment: str, job: str) -> str:
    """``salam_<env>_<job>.py``, anything but letters, digits and ``_`` replaced by ``_``."""
    return re.sub(r"[^A-Za-z0-9_]", "_", f"salam_{environment}_{job}") + ".py"


def dag_file(environment: str, data: Mapping[str, Any]) -> tuple[str, PathKey] | None:
    """The DAG file of a merged ``airflow`` job config and the path it is written at (the job's
    ``name`` when it is derived); None for any other mode, valid config or not."""
    runtime = data.get("runtime")
    orchestration = runtime.get("orchestration") if isinstance(runtime, Mapping) else None
    if not isinstance(orchestration, Mapping) or orchestration.get("mode") != Mode.AIRFLOW.value:
        return None
    block = orchestration.get(Mode.AIRFLOW.block)
    if isinstance(block, Mapping) and isinstance(block.get("dag_file"), str) and block["dag_file"]:
        return block["dag_file"], ("runtime", "orchestration", Mode.AIRFLOW.block, "dag_file")
    return default_dag_file(environment, str(data.get("name"))), ("name",)


def lake_namespace(job: Mapping[str, Any]) -> str:
    """The lake namespace a job config writes its tables in (``target.namespace``)."""
    target = job.get("target")
    return str(target.get("namespace", "default")) if isinstance(target, Mapping) else "default"


def table_name(target: Any, table: Mapping[str, Any]) -> str | None:
    """The lake table (within its namespace) one ``source.tables`` entry is written to: its
    ``target``, else its ``name``'s last part (a query's ``alias``) in lower case, after
    ``target.table_prefix``; None when the entry names none (the schema reports that)."""
    prefix = target.get("table_prefix", "") if isinstance(target, Mapping) else ""
    named = table.get("alias") if table.get("query") else table.get("name")
    own = table.get("target")
    if isinstance(own, str) and own:
        name = own
    elif isinstance(named, str) and named:
        name = named.split(".")[-1].lower()
    else:
        return None
    return f"{prefix}{name}" if isinstance(prefix, str) else None


def table_target(data: Mapping[str, Any], table: Mapping[str, Any]) -> str | None:
    """``<target.namespace>.<table_name>`` of one ``source.tables`` entry of a merged job config,
    valid or not (None where it does not say)."""
    target = data.get("target")
    namespace = target.get("namespace", DEFAULT_NAMESPACE) if isinstance(target, Mapping) else None
    name = table_name(target, table)
    if name is None or not isinstance(namespace or DEFAULT_NAMESPACE, str):
        return None
    return f"{namespace or DEFAULT_NAMESPACE}.{name}"


def of(environment: str, data: Mapping[str, Any], locate: Locate) -> tuple[Name, ...]:
    """The job name, schedule id, DAG file and lake tables of a merged job config (none without a
    string name)."""
    name = data.get("name")
    if not isinstance(name, str):
        return ()
    value, path, kind = schedule_id(environment, data)
    file = dag_file(environment, data)
    files = [Name("DAG file", "dag file", file[0], file[1], locate(file[1]), name)] if file else []
    return (
        Name("job name", "job", name, ("name",), locate(("name",)), name),
        Name(kind, "schedule", value, path, locate(path), name),
        *files,
        *_tables(name, data, locate),
    )


def _tables(job: str, data: Mapping[str, Any], locate: Locate) -> list[Name]:
    """The lake table of each ``source.tables`` entry, located at the entry."""
    source = data.get("source")
    tables = source.get("tables") if isinstance(source, Mapping) else None
    found = []
    for index, table in enumerate(tables if isinstance(tables, list) else []):
        value = table_target(data, table) if isinstance(table, Mapping) else None
        if value is not None:
            path = ("source", "tables", index)
            found.append(Name("lake table", "table", value, path, locate(path), job))
    return found


def clashes(files: Sequence[Sequence[Name]]) -> tuple[list[Diagnostic], set[int]]:
    """A diagnostic for every name an earlier file took, and the indexes of the files that
    took a name already taken."""
    first: dict[tuple[str, str], Name] = {}
    found: list[Diagnostic] = []
    clashing: set[int] = set()
    for index, names in enumerate(files):
        for name in names:
            taken = first.get((name.space, name.value))
            if taken is None:
                first[(name.space, name.value)] = name
                continue
            summary, hint = _clash(name, taken)
            found.append(Diagnostic(name.code, summary, name.location, json_path(name.path), hint))
            clashing.add(index)
    return found, clashing


def _clash(name: Name, taken: Name) -> tuple[str, str]:
    """What a diagnostic says of ``name``, already taken by ``taken``: summary and hint."""
    shown = secrets.shown(name.value)
    if name.space == "table":
        return (
            f"job '{name.job}' writes lake table {shown or '(not shown)'}, which job "
            f"'{taken.job}' writes too ({taken.location})",
            "give one of the jobs its own target.table_prefix (or the table its own target)",
        )
    summary = f"{name.kind} {shown + ' ' if shown else ''}is also used by {taken.location}"
    return summary, f"give each job its own {name.kind}"
