"""One table of a run: window → extract → load (write Parquet) → commit (one Iceberg snapshot)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa

from ingestion.job import commit, copypath, crash, extract, lake, window
from ingestion.job.dialects import sqlite_text
from ingestion.job.errors import JobError, from_exception
from ingestion.job.source import Source, TableSpec
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


@dataclass
class TableResult:
    source: str
    target: str
    window: Window | None = None
    read: dict[str, Any] = field(default_factory=dict)
    status: str = "planned"
    rows_read: int | None = None
    rows_written: int = 0
    bytes: int = 0
    files: int = 0
    snapshot_id: int | None = None
    schema_hash: str | None = None
    added_columns: list[str] = field(default_factory=list)
    cleaned_runs: list[str] = field(default_factory=list)

    def describe(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "target": self.target,
            "status": self.status,
            "window": self.window.describe() if self.window else None,
            "rows_read": self.rows_read,
            "rows_written": self.rows_written,
            "bytes": self.bytes,
            "files": self.files,
            "snapshot_id": self.snapshot_id,
            "schema_hash": self.schema_hash,
            "added_columns": self.added_columns,
            "cleaned_runs": self.cleaned_runs,
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
    result = TableResult(spec.source_name, identifier)
    with stage("load", ctx):
        table = lake.load_table(ctx.catalog, identifier)
        before = lake.state(table)
    if before.committed(ctx.run_id):
        result.status = "already committed"
        result.snapshot_id = before.snapshot_id
        return result
    with stage("window", ctx):
        result.window = window.plan(
            ctx.mode,
            before.watermark,
            ctx.clock,
            ctx.lookback,
            ctx.safety_lag,
            ctx.options.full_refresh,
            ctx.backfill,
        )
    if ctx.options.dry_run:
        result.read = extract.plan_read(spec, result.window, ctx.src).describe()
        return result
    _load_and_commit(ctx, spec, result, before)
    return result


def _load_and_commit(
    ctx: Context, spec: TableSpec, result: TableResult, before: lake.TableState
) -> None:
    win = result.window
    assert win is not None and ctx.src is not None
    with stage("extract", ctx):
        df, plan = extract.read(ctx.spark, ctx.src, spec, win)
        schema = df.schema
        result.read = plan.describe()
        _check_columns(spec, schema)
    arrow_schema = _arrow_schema(schema)
    result.schema_hash = _schema_hash(arrow_schema)
    with stage("load", ctx):
        table = lake.ensure_table(ctx.catalog, result.target, arrow_schema)
        result.added_columns = lake.check_schema(table, arrow_schema, result.target)
        result.cleaned_runs = lake.remove_uncommitted(table, before, keep=ctx.run_id)
        crash.point("before_write")
        uri = lake.staging_uri(table, ctx.run_id)
        crash.kill_when_files_appear(Path(lake.filesystem(uri)[1]))
        if copypath.usable(ctx.src) and win.lo is None:
            copypath.check(ctx.src)
            lake.clear_dir(uri)
            files, result.rows_read = copypath.write(ctx.spark, ctx.src, plan, arrow_schema, uri)
            result.read["extract"] = "copy"
        else:
            observed, df = _observe(df, spec.target)
            df = _without_known_versions(ctx, spec, table, win, df)
            files = commit.write(df, uri)
            result.rows_read = _observed_rows(observed)
    crash.point("after_write")
    with stage("commit", ctx):
        done = commit.commit(
            table,
            files,
            arrow_schema,
            bool(result.added_columns),
            win.replaces,
            _properties(ctx, result, win),
        )
    result.status = "committed"
    result.snapshot_id, result.rows_written = done.snapshot_id, done.rows
    result.bytes, result.files = done.bytes, done.files


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


def _without_known_versions(ctx: Context, spec: TableSpec, table: Any, win: Window, df: Any) -> Any:
    """Drop rows whose ``(primary key, cursor)`` version is already in the lake (lookback)."""
    if win.lo is None or spec.cursor is None or table.current_snapshot() is None:
        return df
    columns = list(dict.fromkeys([*spec.primary_key, spec.cursor]))
    cursor_type = str(table.schema().find_field(spec.cursor).field_type)
    lo, hi = _lake_literal(win.lo, cursor_type), _lake_literal(win.hi, cursor_type)
    known = lake.existing_versions(table, columns, spec.cursor, lo, hi)
    if known.num_rows == 0:
        return df
    keys = ctx.spark.createDataFrame(known)
    keys = keys.select(*[keys[c].cast(df.schema[c].dataType).alias(c) for c in columns])
    return df.join(keys, on=columns, how="left_anti")


def _lake_literal(value: datetime | None, iceberg_type: str) -> Any:
    if value is None:
        return None
    if iceberg_type == "string":
        return sqlite_text(value)
    if iceberg_type == "timestamp":
        return value.replace(tzinfo=None).isoformat(timespec="microseconds")
    return value.isoformat(timespec="microseconds")


def _observe(df: Any, name: str) -> tuple[Any, Any]:
    from pyspark.sql import Observation
    from pyspark.sql import functions as F

    observation = Observation(f"salam_{name}")
    return observation, df.observe(observation, F.count(F.lit(1)).alias("rows"))


def _observed_rows(observation: Any) -> int | None:
    try:
        return int(observation.get["rows"])
    except Exception:
        return None


def _properties(ctx: Context, result: TableResult, win: Window) -> dict[str, str]:
    props = {lake.RUN_ID: ctx.run_id, "salam.window.kind": win.kind}
    for key, value in (
        ("salam.window.lo", win.lo),
        ("salam.window.hi", win.hi),
        (lake.WATERMARK, win.watermark_after),
    ):
        text = window.format_ts(value)
        if text:
            props[key] = text
    return props
