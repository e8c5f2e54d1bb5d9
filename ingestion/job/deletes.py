"""``deletes: detect``: find the lake's keys the source no longer has, in Spark.

Called by :mod:`ingestion.job.table_run` when the check is due (every run, or at most once per
``deletes_every``; the time of the last check is the table property ``salam.deletes.checked_at``,
committed with the run). The source's primary keys are read with Spark JDBC (partitioned like
any read) and anti-joined with the lake's live keys; nothing is collected to the driver. A merge
table removes the gone keys (:mod:`ingestion.job.merge`); an append table gets a tombstone row
per gone key: the key, the load columns and ``_salam_deleted = true``, every other column NULL.
A key is live in an append table when its latest version is not a tombstone.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T
from pyspark.sql.window import Window as SparkWindow

from ingestion.job import extract, lake, window
from ingestion.job.source import APPEND, DETECT, Source, TableSpec


def due(spec: TableSpec, properties: dict[str, str], now: datetime, replaces: bool) -> bool:
    """Whether this run compares keys (never for a full read: it replaces the table)."""
    if spec.deletes != DETECT or replaces:
        return False
    last = window.parse_ts(properties.get(lake.DELETES_CHECKED))
    return spec.deletes_every is None or last is None or now - last >= spec.deletes_every


def source_keys(spark: SparkSession, src: Source, spec: TableSpec, now: datetime) -> DataFrame:
    """Every primary key in the source now (a partitioned JDBC read of the key columns)."""
    keyed = replace(extract.projected(spec, src, list(spec.primary_key)), cursor=None)
    everything = window.Window(window.FULL, None, None, None, now)
    return extract.read(spark, src, keyed, everything)[0]


def gone(lake_rows: DataFrame, keys: DataFrame, spec: TableSpec) -> DataFrame:
    """The lake's live keys that the source no longer has."""
    key = list(spec.primary_key)
    live_rows = live(lake_rows, spec)
    wanted = keys.select(*[keys[c].cast(lake_rows.schema[c].dataType).alias(c) for c in key])
    return live_rows.select(*key).distinct().join(wanted, on=key, how="left_anti")


def live(lake_rows: DataFrame, spec: TableSpec) -> DataFrame:
    """The live version of each key: a merge table's rows as they are; in an append table, each
    key's latest version unless it is a tombstone."""
    return _latest_alive(lake_rows, spec) if spec.write_disposition == APPEND else lake_rows


def _latest_alive(lake_rows: DataFrame, spec: TableSpec) -> DataFrame:
    """Keys of an append table whose latest version is not a tombstone."""
    order = [_column(lake_rows, lake.EXTRACTED_AT_COLUMN).desc_nulls_last()]
    if spec.cursor:
        order.append(F.col(spec.cursor).desc_nulls_last())
    latest = SparkWindow.partitionBy(*spec.primary_key).orderBy(*order)
    ranked = lake_rows.withColumn("_salam_rank", F.row_number().over(latest))
    deleted = F.coalesce(_column(lake_rows, lake.DELETED_COLUMN), F.lit(False))
    return ranked.filter((F.col("_salam_rank") == 1) & ~deleted)


def tombstones(gone_keys: DataFrame, schema: T.StructType, load: dict[str, Column]) -> DataFrame:
    """One row per gone key in the table's ``schema``: key, load columns, deleted = true."""
    marks = {**load, lake.DELETED_COLUMN: F.lit(True)}
    columns = []
    for field in schema.fields:
        if field.name in gone_keys.columns:
            value = F.col(field.name)
        else:
            value = marks.get(field.name, F.lit(None))
        columns.append(value.cast(field.dataType).alias(field.name))
    return gone_keys.select(*columns)


def _column(rows: DataFrame, name: str) -> Column:
    """A column of the lake's rows, NULL for files written before the column existed."""
    return F.col(name) if name in rows.columns else F.lit(None)
