"""The ``ingest maintain`` command: each lake table an environment's jobs write, maintained
(:mod:`.maintain`) and reported, on stdout and as events.

The command is one OpenLineage run of the job ``maintain`` (the name of the job the
environment's ``maintenance`` schedule generates, so ``reconcile status`` shows its last run; its
run id the worker's ``SALAM_LINEAGE_RUN_ID`` when the worker started it, with the workflow run as
its parent). Each table's maintenance is a run of its own (job ``maintain.<namespace.table>``),
the command's run its parent: a START, then a COMPLETE, or a FAIL when a step could not be done,
through the environment's events sink, with what was done in the ``salam`` run facet. The
command's run ends COMPLETE when every table's did, else FAIL.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pyiceberg.table import Table

from ingestion.config import identity, loader, maintenance
from ingestion.config.diagnostics import ConfigError
from ingestion.config.durations import seconds
from ingestion.config.loader import Environment
from ingestion.exitcodes import ExitCode
from ingestion.job import datasets, events, lake
from ingestion.job.errors import RunExit, from_exception
from ingestion.job.maintain import Maintained, Steps, maintain
from ingestion.shared import lineage

STAGE = "maintain"


def execute(
    root: Path | None,
    env: str,
    overrides: Sequence[str],
    only: Sequence[str],
    limits: tuple[str, str, int],
    as_json: bool,
) -> int:
    """``ingest maintain``: maintain each lake table the environment's jobs write (or those in
    ``only``) with ``limits`` (retention, grace, target file size in MiB); print what was done;
    the exit code: ``ingest run``'s (75 when a step met a concurrent commit or the catalog is
    unreachable: run it again), 2 for a bad argument."""
    retention, grace, target_mib = limits
    try:
        kept, waited = timedelta(seconds=seconds(retention)), timedelta(seconds=seconds(grace))
    except ValueError as exc:
        return _fail(f"{exc}: --retention and --grace take a duration", ExitCode.USAGE)
    root = (root or loader.find_root(Path.cwd())).resolve()
    try:
        environment = loader.load_environment(root, env, overrides)
    except ConfigError as exc:
        for diagnostic in exc.diagnostics:
            print(diagnostic.render(), file=sys.stderr)
        return ExitCode.INVALID
    known = tables(environment)
    unknown = sorted(set(only) - set(known))
    if unknown:
        named = ", ".join(known) or "none"
        message = f"no job of {env} writes {', '.join(unknown)} (its tables: {named})"
        return _fail(message, ExitCode.USAGE)
    try:
        sink = events.sink(environment.settings.get("events") or {}, root, _stream(as_json))
    except Exception as exc:  # a sink that cannot be opened: worded, redacted
        return _failed(exc)
    command = CommandRun(sink, env)
    command.send("START")
    try:
        catalog = lake.open_catalog(environment.settings, root)
        steps = Steps(datetime.now(UTC), kept, waited, target_mib * 1024 * 1024)
        runs = Runs(sink, env, catalog.name, command.as_parent())
        reports = _maintain_all(catalog, list(only) or known, steps, runs)
    except Exception as exc:  # the catalog unreachable, a file system error: worded, redacted
        return _failed(exc, command)
    problems = [f"{report.table}: {problem}" for report in reports for problem in report.problems]
    command.send("FAIL" if problems else "COMPLETE", "; ".join(problems))
    _print(reports, as_json)
    return RunExit.TRANSIENT if problems else RunExit.OK


def _failed(exc: Exception, command: CommandRun | None = None) -> int:
    error = from_exception(STAGE, exc, ())
    if command is not None:
        command.send("FAIL", error.message)
    hint = f" (hint: {error.hint})" if error.hint else ""
    return _fail(f"{error.message}{hint}", error.code)


def _stream(as_json: bool) -> Any:
    return sys.stderr if as_json else sys.stdout  # with --json, stdout holds the report only


def _maintain_all(
    catalog: Any, identifiers: Sequence[str], steps: Steps, runs: Runs
) -> list[Maintained]:
    reports = []
    for identifier in identifiers:
        table = lake.load_table(catalog, identifier)
        if table is None:
            reports.append(Maintained(identifier, skipped="not in the catalog yet (no run)"))
            continue
        run = runs.start(table)
        try:
            done = maintain(table, steps)
        except Exception as exc:  # worded (secrets redacted) and reported, then the run stops
            error = from_exception(STAGE, exc, ())
            run.end(Maintained(identifier, problems=[error.message]))
            raise error from None
        run.end(done)
        reports.append(done)
    return reports


@dataclass(frozen=True)
class CommandRun:
    """The OpenLineage run of the whole command (job :data:`maintenance.NAME`)."""

    sink: lineage.Sink | None
    environment: str
    run_id: str = field(
        default_factory=lambda: os.environ.get(lineage.LINEAGE_RUN_ID_ENV) or lineage.uuid7()
    )

    def as_parent(self) -> lineage.Parent:
        namespace = lineage.job_namespace(self.environment)
        return lineage.Parent(namespace, maintenance.NAME, self.run_id)

    def send(self, kind: str, error: str = "") -> None:
        if self.sink is None:
            return
        facets: dict[str, Any] = {}
        parent = lineage.parent_from_env(os.environ)  # the worker's workflow run, if any
        if parent is not None:
            facets["parent"] = parent.facet()
        if error:
            facets["errorMessage"] = lineage.error_facet(error)
        job = {"namespace": lineage.job_namespace(self.environment), "name": maintenance.NAME}
        self.sink.emit(lineage.run_event(kind, self.run_id, job, facets, [], []))


@dataclass(frozen=True)
class Runs:
    """Where each table's maintenance run is announced: ``sink`` (None: nowhere), under
    ``parent`` (the command's run)."""

    sink: lineage.Sink | None
    environment: str
    catalog: str
    parent: lineage.Parent

    def start(self, table: Table) -> TableRun:
        identifier = ".".join(table.name())
        run = TableRun(self, identifier, lineage.uuid7(), datasets.storage(table.location()))
        run.send("START", Maintained(identifier))
        return run


@dataclass(frozen=True)
class TableRun:
    """The OpenLineage run of one table's maintenance."""

    runs: Runs
    table: str
    run_id: str
    storage: tuple[str, str]

    def end(self, done: Maintained) -> None:
        self.send("FAIL" if done.problems else "COMPLETE", done)

    def send(self, kind: str, done: Maintained) -> None:
        if self.runs.sink is None:
            return
        facets: dict[str, Any] = {
            "parent": self.runs.parent.facet(),
            "salam": lineage.facet(
                lineage.SALAM_MAINTENANCE_FACET,
                environment=self.runs.environment,
                **done.describe(),
            ),
        }
        if done.problems:
            facets["errorMessage"] = lineage.error_facet("; ".join(done.problems))
        output = events.output_dataset(
            *self.storage, {"catalog": self.runs.catalog, "table": self.table}
        )
        job = {
            "namespace": lineage.job_namespace(self.runs.environment),
            "name": f"maintain.{self.table}",
        }
        self.runs.sink.emit(lineage.run_event(kind, self.run_id, job, facets, [], [output]))


def _print(reports: Sequence[Maintained], as_json: bool) -> None:
    if as_json:
        print(json.dumps({"tables": [report.describe() for report in reports]}, indent=2))
        return
    for report in reports:
        print(report.line())


def _fail(message: str, code: int) -> int:
    print(f"error: {message}", file=sys.stderr)
    return code


def tables(environment: Environment) -> list[str]:
    """The lake tables the environment's jobs write (``namespace.table``), sorted."""
    found = set()
    for job in environment.jobs:
        namespace, target = identity.lake_namespace(job.data), job.data.get("target")
        source = job.data.get("source") or {}  # the maintenance job itself reads no source
        found |= {f"{namespace}.{identity.table_name(target, t)}" for t in source.get("tables", [])}
    return sorted(found)
