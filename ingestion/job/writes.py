"""The load stage's write, by write disposition: which rows a run writes, which files they replace.

Called by :mod:`ingestion.job.table_run` between extract and commit. Every row gets the load
columns (:data:`ingestion.job.lake.LOAD_COLUMNS`). ``append`` and ``replace`` write the window
as read (append also adds tombstones for keys deleted in the source); ``merge`` first
materialises the window under the run's ``salam-in-`` directory (so the source is read once),
then writes the rewritten lake files plus the winners (:mod:`ingestion.job.merge`). Nothing is
visible until the commit; the next run removes what an uncommitted one left.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pyiceberg.manifest import DataFile
from pyiceberg.table import Table
from pyiceberg.types import TimestamptzType
from pyspark.sql import Column, DataFrame, Observation, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from ingestion.job import commit, deletes, lake, merge
from ingestion.job.source import Source, TableSpec


@dataclass
class Written:
    files: list[str]
    removed: list[DataFile] = field(default_factory=list)
    rows_read: int | None = None
    rows_merged: int | None = None
    rows_deleted: int | None = None
    directories: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Target:
    """Where one run writes one table, and what it knows about it."""

    table: Table
    spec: TableSpec
    run_id: str
    extracted_at: datetime
    uri: str  # the run's staging directory (committed files)
    check_deletes: bool


def load_values(run_id: str, extracted_at: datetime) -> dict[str, Column]:
    """The load columns of the rows a run writes (``_salam_deleted`` is false but in tombstones)."""
    return {
        lake.RUN_ID_COLUMN: F.lit(run_id),
        lake.EXTRACTED_AT_COLUMN: F.lit(extracted_at).cast("timestamp"),
        lake.DELETED_COLUMN: F.lit(False),
    }


def with_load_columns(df: DataFrame, run_id: str, extracted_at: datetime) -> DataFrame:
    return df.withColumns(load_values(run_id, extracted_at))


def as_table_types(df: DataFrame, table: Table | None) -> DataFrame:
    """The window in the types an existing table has where they differ only by zone: a source
    ``timestamp`` (read as ``TIMESTAMP_NTZ``) that earlier versions of Salam wrote to a
    ``timestamptz`` column keeps landing there, its wall-clock time taken as UTC."""
    if table is None:
        return df
    zoned = {f.name for f in table.schema().fields if isinstance(f.field_type, TimestamptzType)}
    casts = {
        f.name: F.col(f.name).cast(T.TimestampType())
        for f in df.schema.fields
        if f.name in zoned and isinstance(f.dataType, T.TimestampNTZType)
    }
    return df.withColumns(casts) if casts else df


def append(
    spark: SparkSession,
    src: Source,
    target: Target,
    df: DataFrame,
    new_versions: Callable[[DataFrame], DataFrame],
) -> Written:
    """Write the window's new versions (and tombstones for deleted keys when the check is due)."""
    observed, df = _observe(df, f"read_{target.spec.target}")
    df = new_versions(df)
    gone_count: Observation | None = None
    gone = _gone(spark, src, target) if target.check_deletes else None
    if gone is not None:
        gone_count, gone = _observe(gone, f"gone_{target.spec.target}")
        stones = deletes.tombstones(
            gone, df.schema, load_values(target.run_id, target.extracted_at)
        )
        df = df.unionByName(stones)
    files = commit.write(df, target.uri)
    return Written(
        files, rows_read=_rows(observed), rows_deleted=_rows(gone_count), directories=[target.uri]
    )


def merge_into(spark: SparkSession, src: Source, target: Target, df: DataFrame) -> Written:
    """Materialise the window, fold it into the lake's current state, write the result."""
    incoming_uri = lake.incoming_uri(target.table, target.run_id)
    observed, df = _observe(df, f"read_{target.spec.target}")
    df.write.mode("overwrite").option("compression", "zstd").parquet(f"{incoming_uri}/rows")
    incoming = spark.read.parquet(f"{incoming_uri}/rows")
    gone, gone_count = _gone(spark, src, target) if target.check_deletes else None, None
    if gone is not None:
        gone.write.mode("overwrite").parquet(f"{incoming_uri}/gone")
        gone = spark.read.parquet(f"{incoming_uri}/gone")
        gone_count = gone.count()
    planned = merge.plan(
        target.table,
        spark,
        target.spec,
        incoming,
        gone if gone_count else None,
        f"{incoming_uri}/won",
    )
    files = commit.write(planned.rows, target.uri)
    lake.clear_dir(incoming_uri)
    return Written(
        files,
        planned.removed,
        _rows(observed),
        planned.merged,
        gone_count,
        [target.uri, incoming_uri],
    )


def rows_after(spark: SparkSession, table: Table, written: Written) -> DataFrame | None:
    """The table's rows as committing ``written`` leaves them: the lake files the commit keeps
    and the run's staged files (None when there are none)."""
    removed = {f.file_path for f in written.removed}
    kept = [f.file_path for f in lake.current_files(table) if f.file_path not in removed]
    paths = [*kept, *written.files]
    return spark.read.option("mergeSchema", "true").parquet(*paths) if paths else None


def _gone(spark: SparkSession, src: Source, target: Target) -> DataFrame | None:
    """The lake's live keys the source no longer has (None for a table without rows)."""
    files = lake.current_files(target.table)
    if not files:
        return None
    current = merge.read_lake(spark, files)
    keys = deletes.source_keys(spark, src, target.spec, target.extracted_at)
    return deletes.gone(current, keys, target.spec)


def _observe(df: DataFrame, name: str) -> tuple[Observation, DataFrame]:
    observation = Observation(f"salam_{name}")
    return observation, df.observe(observation, F.count(F.lit(1)).alias("rows"))


def _rows(observation: Any) -> int | None:
    if observation is None:
        return None
    try:
        return int(observation.get["rows"])
    except Exception:
        return None
