"""One run of a job: extract → load → commit for each table, with START/COMPLETE/FAIL events.

Each table is committed on its own (one snapshot, its own watermark): a crash between two tables
leaves the first committed and the second as before; the next run continues from there. A run id
already committed to a table is skipped for that table, so re-running a run id is a no-op.
"""

from __future__ import annotations

import fcntl
import re
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ingestion.config.durations import seconds
from ingestion.config.loader import Environment, JobConfig
from ingestion.job import completeness, events, extract, lake, source, table_run, window
from ingestion.job.errors import JobError, RunExit, from_exception

RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


@dataclass(frozen=True)
class RunOptions:
    run_id: str | None = None
    dry_run: bool = False
    full_refresh: bool = False
    backfill_from: str | None = None
    backfill_to: str | None = None
    metrics_file: str | None = None


@dataclass
class RunResult:
    run_id: str
    job: str
    environment: str
    tables: list[table_run.TableResult] = field(default_factory=list)
    duration_s: float = 0.0
    warnings: list[str] = field(default_factory=list)


def new_run_id() -> str:
    return f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"


def run(
    environment: Environment, job: JobConfig, options: RunOptions, spark: Any = None
) -> RunResult:
    """Run ``job``; raise :class:`JobError` (after the FAIL event) when a stage fails."""
    run_id = options.run_id or new_run_id()
    if not RUN_ID.match(run_id):
        raise JobError(
            "config",
            f"run id '{run_id}' has characters that cannot name a directory",
            "use letters, digits, '.', '_' and '-'",
            RunExit.INVALID,
        )
    result = RunResult(run_id, job.name, environment.name)
    ctx = _Context(environment, job, options, run_id)
    started = time.monotonic()
    stage = "credentials"
    try:
        ctx.src = source.load_source(job.data, environment.root)
        ctx.sink = events.Sink(
            environment.settings.get("events") or {}, environment.root, ctx.src.secrets
        )
        ctx.specs = source.load_tables(job.data, ctx.src.dialect)
        with _lock(environment, job, options.dry_run):
            stage = "lake"
            ctx.catalog = lake.open_catalog(environment.settings, environment.root)
            stage = "session"
            ctx.spark = _session(environment, job, spark)
            ctx.emit("START", [], None)
            stage = "window"
            ctx.clock = extract.source_clock(ctx.spark, ctx.src)
            for spec in ctx.specs:
                result.tables.append(table_run.run_table(ctx, spec))
    except BaseException as exc:
        if not isinstance(exc, Exception):
            raise
        error = from_exception(stage, exc, ctx.src.secrets if ctx.src else ())
        result.duration_s = time.monotonic() - started
        ctx.emit("FAIL", result.tables, error, result.duration_s)
        raise error from None
    result.duration_s = time.monotonic() - started
    ctx.emit("COMPLETE", result.tables, None, result.duration_s)
    result.warnings = ctx.sink.warnings if ctx.sink else []
    return result


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
        self.namespace = str((job.data.get("target") or {}).get("namespace", "default"))
        self.backfill = _backfill(options)
        self.src: source.Source | None = None
        self.sink: events.Sink | None = None
        self.specs: list[source.TableSpec] = []
        self.catalog: Any = None
        self.spark: Any = None
        self.clock: datetime | None = None

    def emit(
        self,
        kind: str,
        tables: list[table_run.TableResult],
        error: JobError | None,
        duration: float | None = None,
    ) -> None:
        if self.options.dry_run or self.sink is None:
            return
        job = {"namespace": f"salam/{self.environment.name}", "name": self.job.name}
        inputs = [events.dataset(self._source_ns(), s.source_name) for s in self.specs]
        by_target = {t.target: t for t in tables}
        outputs = [
            self._output(s, by_target.get(f"{self.namespace}.{s.target}")) for s in self.specs
        ]
        facet: dict[str, Any] = {
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
            facet["error"] = {
                "stage": error.stage,
                "message": error.message,
                "hint": error.hint,
                "transient": error.transient,
                "exit_code": int(error.code),
            }
        self.sink.emit(events.event(kind, self.run_id, job, inputs, outputs, facet, error))

    def _source_ns(self) -> str:
        return self.src.url if self.src else str(self.job.data["source"]["jdbc_url"])

    def _output(self, spec: source.TableSpec, done: table_run.TableResult | None) -> dict[str, Any]:
        name = f"{self.namespace}.{spec.target}"
        catalog = str(self.environment.settings.get("lake", {}).get("catalog", {}).get("name", ""))
        if done is None:
            return events.dataset(f"iceberg://{catalog}", name)
        stats = {"rowCount": done.rows_written, "size": done.bytes, "fileCount": done.files}
        return events.dataset(f"iceberg://{catalog}", name, stats)


def _backfill(options: RunOptions) -> tuple[datetime, datetime] | None:
    if not options.backfill_from and not options.backfill_to:
        return None
    lo, hi = window.parse_ts(options.backfill_from), window.parse_ts(options.backfill_to)
    if lo is None or hi is None:
        raise JobError("config", "a backfill needs both --from and --to", "", RunExit.INVALID)
    return lo, hi


def _session(environment: Environment, job: JobConfig, given: Any) -> Any:
    """The caller's session (checked to run in UTC) or the environment's."""
    from ingestion.job import session

    if given is not None:
        return session.checked(given)
    return session.get(environment.settings, job.data, f"salam-{environment.name}-{job.name}")


@contextmanager
def _lock(environment: Environment, job: JobConfig, dry_run: bool) -> Iterator[None]:
    """One run per job at a time (on this machine): a second one fails as transient."""
    if dry_run:
        yield
        return
    state_dir = environment.root / str(environment.settings.get("state_dir", ".salam/state"))
    path = Path(state_dir) / "locks" / f"ingest-{environment.name}-{job.name}.lock"
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
