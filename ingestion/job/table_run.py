"""One table of a run: window → extract → load (write Parquet) → commit (one Iceberg snapshot).

The write itself, by write disposition, is :mod:`ingestion.job.writes`; the conditional commit
is :mod:`ingestion.job.commit`. A ``replace`` table always reads everything.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa

from ingestion.job import (
    commit,
    completeness,
    copypath,
    crash,
    deletes,
    extract,
    lake,
    lookback,
    window,
    writes,
)
from ingestion.job.errors import JobError, from_exception
from ingestion.job.source import MERGE, REPLACE, Source, TableSpec
from ingestion.job.window import Window


class Context(Protocol):
    run_id: str
    mode: str
    lookback: timedelta
    safety_lag: timedelta
    namespace: str
    backfill: tuple[datetime, datetime] | None
    src: Source | None
    catalog: Any
    spark: Any
    clock: datetime | None
    options: Any
    completeness: completeness.Settings


@dataclass
class TableResult:
    source: str
    target: str
    window: Window | None = None
    read: dict[str, Any] = field(default_factory=dict)
    status: str = "planned"
    rows_read: int | None = None
    rows_written: int = 0
    rows_merged: int | None = None
    rows_deleted: int | None = None
    write_disposition: str | None = None
    bytes: int = 0
    files: int = 0
    snapshot_id: int | None = None
    schema_hash: str | None = None
    added_columns: list[str] = field(default_factory=list)
    cleaned_runs: list[str] = field(default_factory=list)
    completeness: dict[str, Any] | None = None
    location: str | None = None  # the table's storage location (named in events, not described)

    def describe(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "target": self.target,
            "status": self.status,
            "window": self.window.describe() if self.window else None,
            "rows_read": self.rows_read,
            "rows_written": self.rows_written,
            "write_disposition": self.write_disposition,
            "rows_merged": self.rows_merged,
            "rows_deleted": self.rows_deleted,
            "bytes": self.bytes,
            "files": self.files,
            "snapshot_id": self.snapshot_id,
            "schema_hash": self.schema_hash,
            "added_columns": self.added_columns,
            "cleaned_runs": self.cleaned_runs,
            "completeness": self.completeness,
        }


@contextmanager
def stage(name: str, ctx: Context) -> Iterator[None]:
    """Name any failure inside the block by its stage."""
    try:
        yield
    except Exception as exc:
        raise from_exception(name, exc, ctx.src.secrets if ctx.src else ()) from None


def run_table(ctx: Context, spec: TableSpec) -> TableResult:
    assert ctx.src is not None and ctx.clock is not None
    identifier = f"{ctx.namespace}.{spec.target}"
    result = TableResult(spec.source_name, identifier, write_disposition=spec.write_disposition)
    with stage("load", ctx):
        table = lake.load_table(ctx.catalog, identifier)
        before = lake.state(table)
    result.location = table.location() if table is not None else None
    if before.committed(ctx.run_id):
        result.status = "already committed"
        result.snapshot_id = before.snapshot_id
        return result
    with stage("window", ctx):
        result.window = window.plan(
            "full" if spec.write_disposition == REPLACE else ctx.mode,
            before.watermark,
            ctx.clock,
            ctx.lookback,
            ctx.safety_lag,
            ctx.options.full_refresh,
            ctx.backfill,
        )
    if ctx.options.dry_run:
        with stage("extract", ctx):
            planned = (
                lookback.plan(ctx.spark, ctx.src, spec, result.window)
                if lookback.applies(spec, result.window)
                else extract.plan_read(ctx.spark, ctx.src, spec, result.window)
            )
            result.read = planned.describe()
        return result
    _load_and_commit(ctx, spec, result, before, table)
    return result


def _load_and_commit(
    ctx: Context,
    spec: TableSpec,
    result: TableResult,
    before: lake.TableState,
    existing: Any,
) -> None:
    """Extract, write and commit one table (``existing``: the lake table, None before the first
    run; ``before``: its state). The run claims the table from its first read of it: its
    directories, and the snapshot it started from, which maintenance then never expires."""
    win = result.window
    assert win is not None and ctx.src is not None
    extracted_at = datetime.now(UTC)
    with ExitStack() as claims:
        if existing is not None:
            claims.enter_context(lake.claim(existing, ctx.run_id, before.snapshot_id))
        df, plan, arrow_schema = _extract(ctx, spec, win, existing, result, extracted_at)
        target = _target(ctx, spec, result, arrow_schema, extracted_at)
        if existing is None:
            claims.enter_context(lake.claim(target.table, ctx.run_id, None))
        written = _write_files(ctx, target, win, (df, plan, arrow_schema), result)
        with stage(completeness.STAGE, ctx):
            result.completeness = _completeness(ctx, target, win, written, before)
        with stage("commit", ctx):
            change = commit.Change(
                before.snapshot_id,
                written.files,
                arrow_schema,
                bool(result.added_columns),
                win.replaces,
                written.removed,
                written.directories,
            )
            props = _properties(ctx, result, win, target.check_deletes, extracted_at)
            done = commit.commit(target.table, change, props)
    result.status = "committed"
    result.snapshot_id, result.rows_written = done.snapshot_id, done.rows
    result.bytes, result.files = done.bytes, done.files
    result.rows_read, result.rows_merged = written.rows_read, written.rows_merged
    result.rows_deleted = written.rows_deleted


def _extract(
    ctx: Context,
    spec: TableSpec,
    win: Window,
    existing: Any,
    result: TableResult,
    extracted_at: datetime,
) -> tuple[Any, Any, pa.Schema]:
    """The window's rows to write (lazy), their read plan and their Arrow schema."""
    assert ctx.src is not None
    with stage("extract", ctx):
        df, plan = (
            lookback.read(ctx.spark, ctx.src, spec, win, existing)
            if lookback.applies(spec, win) and existing is not None
            else extract.read(ctx.spark, ctx.src, spec, win)
        )
        result.read = plan.describe()
        _check_columns(spec, df.schema)
        df = writes.with_load_columns(df, ctx.run_id, extracted_at)
        df = writes.as_table_types(df, existing)
    arrow_schema = _arrow_schema(df.schema)
    result.schema_hash = _schema_hash(arrow_schema)
    return df, plan, arrow_schema


def _target(
    ctx: Context,
    spec: TableSpec,
    result: TableResult,
    arrow_schema: pa.Schema,
    extracted_at: datetime,
) -> writes.Target:
    """The lake table the run writes (created on the first run) and where it stages files."""
    assert result.window is not None
    with stage("load", ctx):
        table = lake.without_rebase(lake.ensure_table(ctx.catalog, result.target, arrow_schema))
        result.location = table.location()
        result.added_columns = lake.check_schema(table, arrow_schema, result.target)
        check = deletes.due(spec, table.properties, extracted_at, result.window.replaces)
        return writes.Target(
            table, spec, ctx.run_id, extracted_at, lake.staging_uri(table, ctx.run_id), check
        )


def _write_files(
    ctx: Context,
    target: writes.Target,
    win: Window,
    read: tuple[Any, Any, pa.Schema],
    result: TableResult,
) -> writes.Written:
    """Remove what uncommitted runs left, then write this run's files (crash points around it)."""
    with stage("load", ctx):
        state = lake.state(target.table)
        result.cleaned_runs = lake.remove_uncommitted(target.table, state, keep=ctx.run_id)
        crash.point("before_write")
        crash.kill_when_files_appear(Path(lake.filesystem(target.uri)[1]))
        written = _write(ctx, target, win, *read, result)
    crash.point("after_write")
    return written


def _write(
    ctx: Context,
    target: writes.Target,
    win: Window,
    df: Any,
    plan: Any,
    arrow_schema: pa.Schema,
    result: TableResult,
) -> writes.Written:
    """Write the run's files by disposition: COPY fast path, merge, or append/replace."""
    assert ctx.src is not None
    merging = _merging(target, win)
    if copypath.usable(ctx.src) and win.lo is None and not merging:
        return _copy(ctx, target, plan, arrow_schema, result)
    if merging:
        return writes.merge_into(ctx.spark, ctx.src, target, df)
    # a split window's lookback part is already compared with the lake
    compared = lookback.since_watermark(win) if lookback.applies(target.spec, win) else win
    return writes.append(
        ctx.spark,
        ctx.src,
        target,
        df,
        lambda rows: lookback.without_known(ctx.spark, target.table, target.spec, compared, rows),
    )


def _copy(
    ctx: Context, target: writes.Target, plan: Any, arrow_schema: pa.Schema, result: TableResult
) -> writes.Written:
    """The PostgreSQL COPY fast path of a full read."""
    assert ctx.src is not None
    copypath.check(ctx.src)
    lake.clear_dir(target.uri)
    load = _load_constants(target)
    files, rows = copypath.write(
        ctx.spark, ctx.src, plan, target.spec.primary_key, arrow_schema, target.uri, load
    )
    result.read["extract"] = "copy"
    return writes.Written(files, rows_read=rows, directories=[target.uri])


def _merging(target: writes.Target, win: Window) -> bool:
    """Merge into existing rows (a full read replaces them, a first load has none)."""
    has_rows = target.table.current_snapshot() is not None
    return target.spec.write_disposition == MERGE and has_rows and not win.replaces


def _load_constants(target: writes.Target) -> dict[str, Any]:
    return {
        lake.RUN_ID_COLUMN: target.run_id,
        lake.EXTRACTED_AT_COLUMN: target.extracted_at,
        lake.DELETED_COLUMN: False,
    }


def _completeness(
    ctx: Context,
    target: writes.Target,
    win: Window,
    written: writes.Written,
    before: lake.TableState,
) -> dict[str, Any] | None:
    """Reconcile counts below the window before committing (a breach fails the run)."""
    spec = target.spec
    if win.lo is None or spec.cursor is None or ctx.src is None:
        return None
    cursor_type = str(target.table.schema().find_field(spec.cursor).field_type)
    check = completeness.Check(spec, win.lo, lake.literal(win.lo, cursor_type))
    found = completeness.check(
        ctx.spark,
        ctx.src,
        check,
        lambda: writes.rows_after(ctx.spark, target.table, written),
        len(before.committed_runs),
        ctx.completeness,
    )
    completeness.enforce(found, spec.source_name, ctx.completeness)
    return found


def _check_columns(spec: TableSpec, schema: Any) -> None:
    names = set(schema.fieldNames())
    wanted = [*spec.primary_key, *([spec.cursor] if spec.cursor else [])]
    missing = [c for c in wanted if c not in names]
    if missing:
        raise JobError(
            "extract",
            f"{spec.source_name} has no column {', '.join(missing)}",
            f"columns: {', '.join(schema.fieldNames())}",
        )


def _arrow_schema(schema: Any) -> pa.Schema:
    from pyspark.sql.pandas.types import to_arrow_schema

    arrow = to_arrow_schema(schema, timezone="UTC")
    return pa.schema([f.with_nullable(True) for f in arrow])


def _schema_hash(schema: pa.Schema) -> str:
    fields = [(f.name, str(f.type)) for f in schema]
    return hashlib.sha256(json.dumps(fields).encode()).hexdigest()[:16]


def _properties(
    ctx: Context, result: TableResult, win: Window, checked: bool, now: datetime
) -> dict[str, str]:
    props = {lake.RUN_ID: ctx.run_id, "salam.window.kind": win.kind}
    for key, value in (
        ("salam.window.lo", win.lo),
        ("salam.window.hi", win.hi),
        (lake.WATERMARK, win.watermark_after),
        (lake.DELETES_CHECKED, now if checked else None),
    ):
        text = window.format_ts(value)
        if text:
            props[key] = text
    return props
