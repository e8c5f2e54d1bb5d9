"""The ``ingest maintain`` command: each lake table an environment's jobs write, maintained
(:mod:`.maintain`) and reported, on stdout and as events.

Each table's maintenance is an OpenLineage run of its own (job ``maintain.<namespace.table>`` in
the environment's job namespace): a START, then a COMPLETE, or a FAIL when a step could not be
done, through the environment's events sink, with what was done in the ``salam`` run facet.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pyiceberg.table import Table

from ingestion.config import identity, loader
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
        catalog = lake.open_catalog(environment.settings, root)
        steps = Steps(datetime.now(UTC), kept, waited, target_mib * 1024 * 1024)
        runs = Runs(sink, env, catalog.name)
        reports = _maintain_all(catalog, list(only) or known, steps, runs)
    except Exception as exc:  # the catalog unreachable, a file system error: worded, redacted
        error = from_exception(STAGE, exc, ())
        hint = f" (hint: {error.hint})" if error.hint else ""
        return _fail(f"{error.message}{hint}", error.code)
    _print(reports, as_json)
    return RunExit.TRANSIENT if any(report.problems for report in reports) else RunExit.OK


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
class Runs:
    """Where each table's maintenance run is announced: ``sink`` (None: nowhere)."""

    sink: lineage.Sink | None
    environment: str
    catalog: str

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
            "salam": lineage.facet(
                lineage.SALAM_MAINTENANCE_FACET,
                environment=self.runs.environment,
                **done.describe(),
            )
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
