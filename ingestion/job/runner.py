"""One run of a job: extract → load → commit for each table, with START/COMPLETE/FAIL events.

The events sink exists before credentials, lock, catalog or session are touched, so any failure
is a START then a FAIL; a run id already committed to every table is a no-op without events.

Each table is committed on its own (one snapshot, its own watermark): a crash between two tables
leaves the first committed and the second as before; the next run continues from there. A run id
already committed to a table is skipped for that table, so re-running a run id is a no-op.
"""

from __future__ import annotations

import fcntl
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from ingestion.config import identity
from ingestion.config.durations import seconds
from ingestion.config.loader import Environment, JobConfig
from ingestion.job import (
    completeness,
    connect,
    datasets,
    dialects,
    events,
    extract,
    lake,
    source,
    table_run,
    window,
)
from ingestion.job.errors import JobError, RunExit, from_exception
from ingestion.shared import lineage

RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


@dataclass(frozen=True)
class RunOptions:
    run_id: str | None = None
    dry_run: bool = False
    full_refresh: bool = False
    backfill_from: str | None = None
    backfill_to: str | None = None
    metrics_file: str | None = None
    lineage_run_id: str | None = None  # the OpenLineage run id the worker chose for this process
    parent: lineage.Parent | None = None  # the worker's workflow run
    event_stream: TextIO | None = None  # where a stdout sink / the trace go (default stdout)


@dataclass
class RunResult:
    run_id: str
    job: str
    environment: str
    tables: list[table_run.TableResult] = field(default_factory=list)
    duration_s: float = 0.0
    warnings: list[str] = field(default_factory=list)
    lineage_run_id: str | None = None
    engine: str = "local"  # or the Spark Connect URL the run was a client of


def new_run_id() -> str:
    """A fresh run id: a UUIDv7 (time-ordered), also usable as an OpenLineage run id."""
    return lineage.uuid7()


def run(
    environment: Environment, job: JobConfig, options: RunOptions, spark: Any = None
) -> RunResult:
    """Run ``job``; raise :class:`JobError` (after START and FAIL) when a stage fails."""
    run_id = options.run_id or new_run_id()
    _check_ids(run_id, options.lineage_run_id)
    ctx = _Context(environment, job, options, run_id)
    result = RunResult(run_id, job.name, environment.name, lineage_run_id=ctx.lineage.run_id)
    started = time.monotonic()
    stage = "config"
    marker = None if options.dry_run else _session_marker(environment, job)
    try:
        ctx.backfill = _backfill(options)
        stage = "credentials"
        ctx.specs = source.load_tables(job.data, dialects.for_url(ctx.jdbc_url))
        ctx.src = source.load_source(job.data, environment.root)
        with _lock(environment, job, options.dry_run):
            stage = "lake"
            ctx.catalog = lake.open_catalog(environment.settings, environment.root)
            done = _already_committed(ctx)
            if done is not None:  # a re-run of a committed run id: nothing to do, no events
                result.tables = done
                return result
            ctx.emit("START", [], None)
            stage = "session"
            ctx.spark = _session(environment, job, spark, marker)
            result.engine = _engine(environment, ctx.spark)
            stage = "window"
            ctx.clock = extract.source_clock(ctx.spark, ctx.src)
            for spec in ctx.specs:
                result.tables.append(table_run.run_table(ctx, spec))
    except BaseException as exc:
        if not isinstance(exc, Exception):
            raise
        error = from_exception(stage, exc, ctx.src.secrets if ctx.src else ())
        result.duration_s = time.monotonic() - started
        ctx.emit("START", [], None)  # a run that failed before its START still has one
        ctx.emit("FAIL", result.tables, error, result.duration_s)
        raise error from None
    finally:
        if spark is None and ctx.spark is not None:
            connect.close(ctx.spark, marker)  # releases a remote session on the warm engine
    result.duration_s = time.monotonic() - started
    ctx.emit("COMPLETE", result.tables, None, result.duration_s)
    result.warnings = ctx.lineage.sink.warnings if ctx.lineage.sink else []
    return result


def _check_ids(run_id: str, lineage_run_id: str | None) -> None:
    if not RUN_ID.match(run_id):
        raise JobError(
            "config",
            f"run id '{run_id}' has characters that cannot name a directory",
            "use letters, digits, '.', '_' and '-'",
            RunExit.INVALID,
        )
    if lineage_run_id is not None and not lineage.is_uuid(lineage_run_id):
        raise JobError(
            "events",
            f"{lineage.LINEAGE_RUN_ID_ENV} '{lineage_run_id}' is not a UUID: no events can be sent",
            "unset it, or set it to a UUID (the worker sets a fresh UUIDv7 per attempt)",
            RunExit.INVALID,
        )


def _lineage_run_id(options: RunOptions, run_id: str) -> str:
    """The OpenLineage run id: the worker's, else a run id made here, else a fresh UUIDv7."""
    if options.lineage_run_id:
        return options.lineage_run_id
    return run_id if options.run_id is None else lineage.uuid7()


def _already_committed(ctx: _Context) -> list[table_run.TableResult] | None:
    """The tables' results when the run id is committed to every one of them, else None."""
    found = []
    for spec in ctx.specs:
        identifier = f"{ctx.namespace}.{spec.target}"
        table = lake.load_table(ctx.catalog, identifier)
        if table is not None:
            ctx.locations[identifier] = table.location()
        before = lake.state(table)
        if not before.committed(ctx.run_id):
            return None
        done = table_run.TableResult(spec.source_name, identifier, status="already committed")
        done.snapshot_id = before.snapshot_id
        found.append(done)
    return found


class _Context(table_run.Context):
    """What every table of a run shares."""

    def __init__(self, environment: Environment, job: JobConfig, options: RunOptions, run_id: str):
        load = job.data.get("load") or {}
        self.environment = environment
        self.job = job
        self.options = options
        self.run_id = run_id
        self.mode = str(load.get("mode", "incremental"))
        self.lookback = (
            timedelta(seconds=seconds(load["lookback"])) if load.get("lookback") else timedelta(0)
        )
        self.safety_lag = (
            timedelta(seconds=seconds(load["safety_lag"]))
            if load.get("safety_lag")
            else timedelta(0)
        )
        self.completeness = completeness.settings(load)
        self.namespace = identity.lake_namespace(job.data)
        self.backfill: tuple[datetime, datetime] | None = None  # set by run(), which may fail
        self.jdbc_url = str(job.data["source"]["jdbc_url"])
        self.src: source.Source | None = None
        self.specs: list[source.TableSpec] = []
        self.locations: dict[str, str] = {}
        self.catalog: Any = None
        self.spark: Any = None
        self.clock: datetime | None = None
        sink = None
        if not options.dry_run:  # the sink exists before anything that can fail
            settings = environment.settings.get("events") or {}
            sink = events.sink(settings, environment.root, options.event_stream)
        self.lineage = events.Emitter(
            sink,
            _lineage_run_id(options, run_id),
            {"namespace": lineage.job_namespace(environment.name), "name": job.name},
            options.parent,
        )

    def emit(
        self,
        kind: str,
        tables: list[table_run.TableResult],
        error: JobError | None,
        duration: float | None = None,
    ) -> None:
        inputs = [events.input_dataset(*self._input(s)) for s in self.specs]
        by_target = {t.target: t for t in tables}
        outputs = [
            self._output(s, by_target.get(f"{self.namespace}.{s.target}")) for s in self.specs
        ]
        if kind == "START":
            self.lineage.start(inputs, outputs, self._facet(tables, None, None))
        else:
            self.lineage.finish(kind, inputs, outputs, self._facet(tables, error, duration), error)

    def _facet(
        self, tables: list[table_run.TableResult], error: JobError | None, duration: float | None
    ) -> dict[str, Any]:
        facet: dict[str, Any] = {
            "run_id": self.run_id,
            "environment": self.environment.name,
            "job": self.job.name,
            "config_path": self.job.path,
            "config_sha256": self.job.sha256,
            "mode": self.mode,
            "source_clock": window.format_ts(self.clock),
            "duration_s": round(duration, 3) if duration is not None else None,
            "tables": [t.describe() for t in tables],
        }
        if error is not None:
            facet["error"] = error.describe()
        return facet

    def _input(self, spec: source.TableSpec) -> tuple[str, str]:
        url = self.src.url if self.src else self.jdbc_url
        return datasets.source(url, spec.source_name, self.src.user if self.src else None)

    def _output(self, spec: source.TableSpec, done: table_run.TableResult | None) -> dict[str, Any]:
        identifier = f"{self.namespace}.{spec.target}"
        lake_settings = self.environment.settings.get("lake") or {}
        location = (done.location if done else None) or self.locations.get(identifier)
        if location is None:
            warehouse = lake.resolve_uri(
                str(lake_settings.get("warehouse", "")), self.environment.root
            )
            location = datasets.default_location(warehouse, identifier)
        namespace, name = datasets.storage(location)
        table = {
            "catalog": str((lake_settings.get("catalog") or {}).get("name", "")),
            "table": identifier,
        }
        if done is None or done.status != "committed":
            return events.output_dataset(namespace, name, table)
        stats = {"rowCount": done.rows_written, "size": done.bytes, "fileCount": done.files}
        return events.output_dataset(namespace, name, table, stats)


def _backfill(options: RunOptions) -> tuple[datetime, datetime] | None:
    if not options.backfill_from and not options.backfill_to:
        return None
    lo, hi = window.parse_ts(options.backfill_from), window.parse_ts(options.backfill_to)
    if lo is None or hi is None:
        raise JobError("config", "a backfill needs both --from and --to", "", RunExit.INVALID)
    return lo, hi


def _session(environment: Environment, job: JobConfig, given: Any, marker: Path | None) -> Any:
    """The caller's session (checked to run in UTC) or the environment's."""
    from ingestion.job import session

    if given is not None:
        return session.checked(given)
    name = f"salam-{environment.name}-{job.name}"
    return session.get(environment.settings, job.data, name, marker)


def _state_dir(environment: Environment) -> Path:
    return environment.root / str(environment.settings.get("state_dir", ".salam/state"))


def _session_marker(environment: Environment, job: JobConfig) -> Path:
    """Where a run of ``job`` names its Spark Connect session (written under the job's lock)."""
    return _state_dir(environment) / "engine" / f"session-{environment.name}-{job.name}"


def _engine(environment: Environment, spark: Any) -> str:
    """Where the run's Spark work ran: ``local`` or the Spark Connect server's URL."""
    if not connect.is_remote(spark):
        return "local"
    return connect.url_of(environment.settings) or "remote"


@contextmanager
def _lock(environment: Environment, job: JobConfig, dry_run: bool) -> Iterator[None]:
    """One run per job at a time (on this machine): a second one fails as transient."""
    if dry_run:
        yield
        return
    path = _state_dir(environment) / "locks" / f"ingest-{environment.name}-{job.name}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise JobError(
                "lock",
                f"another run of {environment.name}/{job.name} is in progress",
                "retry when it has finished",
                RunExit.TRANSIENT,
            ) from None
        yield
