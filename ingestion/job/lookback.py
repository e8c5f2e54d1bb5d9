"""An incremental window read in proportion to what changed, not to the lookback.

An incremental window ``[lo, hi)`` is the rows since the watermark, ``[watermark, hi)``, and
the lookback ``[lo, watermark)``, re-read for versions that were committed late. The rows since
the watermark are new to the lake: they are read whole. The lookback is read as keys and cursors
only and compared with the lake's versions (the files whose cursor statistics meet the
lookback): on the driver for a small lookback of a PostgreSQL source (:mod:`.lookback_local`),
else in Spark; only the versions the lake lacks are then read whole, by key, in partitions of
:data:`KEYS_PER_READ` keys. So the wide read, the write and the driver's memory follow the
changed rows; only the narrow key read follows the lookback (one JDBC partition, with no bounds
query, when the lake's files for the lookback hold fewer rows than two partitions of
:data:`ingestion.job.extract.MIN_PARTITION_ROWS`). More missing versions than
:data:`FETCH_LIMIT`, or a key that is not an integer or a plain string, read the lookback whole
(still compared with the lake in Spark). Called by :mod:`ingestion.job.table_run`; a dry run
shows the key read's SQL beside the window's.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from pyiceberg.expressions import And, BooleanExpression, GreaterThanOrEqual, LessThan
from pyiceberg.table import Table
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from ingestion.job import extract, lake, lookback_local, window
from ingestion.job.dialects import Dialect
from ingestion.job.extract import ReadPlan
from ingestion.job.source import Source, TableSpec
from ingestion.job.window import Window

FETCH_LIMIT = 10_000  # missing versions read by key; more read the lookback whole
KEYS_PER_READ = 500  # keys per partition of the read by key
ON_DRIVER, IN_SPARK = "on the driver", "in Spark"  # where the comparison ran
_KNOWN = "_salam_known"
_PLAIN_TEXT = re.compile(r"^[A-Za-z0-9 _.:@/+=-]*$")  # a string key safe as a literal anywhere


@dataclass
class Lookback:
    """What the lookback's comparison found, for the events and ``--dry-run``."""

    sql: str
    keys: int | None = None  # versions in the lookback at the source
    missing: int | None = None  # of those, versions the lake lacks
    read: str | None = None  # how they were read: "none", "by key" or "whole"
    compared: str | None = None  # where: ON_DRIVER or IN_SPARK

    def describe(self) -> dict[str, Any]:
        found = {
            "keys": self.keys,
            "missing": self.missing,
            "read": self.read,
            "compared": self.compared,
        }
        return {"sql": self.sql, **{k: v for k, v in found.items() if v is not None}}


def applies(spec: TableSpec, win: Window) -> bool:
    """Whether the window splits: an incremental window of a keyed table with a cursor."""
    return (
        win.kind == window.INCREMENTAL
        and spec.cursor is not None
        and bool(spec.primary_key)
        and win.watermark_before is not None
        and win.lo is not None
        and win.lo < win.watermark_before
    )


def since_watermark(win: Window) -> Window:
    """The window's rows that are new to the lake: ``[watermark, hi)``."""
    return replace(win, lo=win.watermark_before)


def plan(spark: SparkSession, src: Source, spec: TableSpec, win: Window) -> ReadPlan:
    """The read of a split window as ``--dry-run`` shows it: the new rows, then the key read."""
    read_plan = extract.plan_read(spark, src, spec, since_watermark(win))
    read_plan.lookback = Lookback(_key_sql(src, spec, win)).describe()
    return read_plan


def read(
    spark: SparkSession, src: Source, spec: TableSpec, win: Window, table: Table
) -> tuple[DataFrame, ReadPlan]:
    """The window's rows the lake lacks: ``[watermark, hi)`` whole, and the lookback's missing
    versions; the plan carries what the comparison found."""
    df, read_plan = extract.read(spark, src, spec, since_watermark(win))
    found = Lookback(_key_sql(src, spec, win))
    late = _late_rows(spark, src, spec, win, table, df, found)
    read_plan.lookback = found.describe()
    return (df.unionByName(late) if late is not None else df), read_plan


def without_known(
    spark: SparkSession, table: Table, spec: TableSpec, win: Window, df: DataFrame
) -> DataFrame:
    """``df`` without the ``(primary key, cursor)`` versions the lake already holds in ``win``
    (compared in Spark: no key reaches the driver)."""
    if win.lo is None or spec.cursor is None or table.current_snapshot() is None:
        return df
    known = _lake_versions(spark, table, spec, win, df)
    return df if known is None else df.join(known, on=_columns(spec), how="left_anti")


def _late_rows(
    spark: SparkSession,
    src: Source,
    spec: TableSpec,
    win: Window,
    table: Table,
    like: DataFrame,
    found: Lookback,
) -> DataFrame | None:
    """The lookback's versions the lake lacks, read whole (None when there are none)."""
    lookback = replace(win, hi=win.watermark_before)
    files = _lake_files(table, spec, lookback)
    absent = _compare(spark, src, spec, lookback, files, like, found)
    if found.missing == 0:
        found.read = "none"
        return None
    wanted = absent() if (found.missing or 0) <= FETCH_LIMIT else []
    predicates = _key_predicates(src.dialect, spec.primary_key, wanted)
    if predicates is None:
        found.read = "whole"
        known = _versions(spark, files, spec, like)
        rows = extract.read(spark, src, spec, lookback)[0]
        return rows if known is None else rows.join(known, on=_columns(spec), how="left_anti")
    found.read = "by key"
    return extract.read(spark, src, replace(spec, predicates=tuple(predicates)), lookback)[0]


def _compare(
    spark: SparkSession,
    src: Source,
    spec: TableSpec,
    lookback: Window,
    files: list[Any],
    like: DataFrame,
    found: Lookback,
) -> Callable[[], list[tuple[Any, ...]]]:
    """Compare the source's lookback versions with the lake's ``files`` (on the driver when
    :mod:`.lookback_local` can, else in Spark); set ``found``'s counts and return how to get
    the primary keys of the missing versions."""
    lake_rows = sum(f.record_count for f in files)
    local = (
        lookback_local.missing(src, found.sql, _columns(spec), files)
        if lookback_local.applies(src, lake_rows)
        else None
    )
    if local is not None:
        found.compared = ON_DRIVER
        found.keys, absent = local[0], local[1].select(list(spec.primary_key))
        found.missing = absent.num_rows
        return lambda: [tuple(row.values()) for row in absent.to_pylist()]
    found.compared = IN_SPARK
    keys = _keys(spark, src, _sized(spec, lake_rows), lookback, like)
    known = _versions(spark, files, spec, like)
    missing = keys if known is None else keys.join(known, on=_columns(spec), how="left_anti")
    found.keys, found.missing = _count(keys, known, spec)
    return lambda: [tuple(row) for row in missing.select(*spec.primary_key).collect()]


def _count(keys: DataFrame, known: DataFrame | None, spec: TableSpec) -> tuple[int, int]:
    """How many versions the lookback holds at the source, and how many of them the lake
    lacks (one pass over both)."""
    if known is None:
        total = keys.count()
        return total, total
    marked = known.distinct().withColumn(_KNOWN, F.lit(True))
    counts = keys.join(marked, on=_columns(spec), how="left").agg(
        F.count(F.lit(1)).alias("keys"), F.count_if(F.col(_KNOWN).isNull()).alias("missing")
    )
    row = counts.collect()[0]
    return int(row["keys"]), int(row["missing"])


def _keys(
    spark: SparkSession, src: Source, spec: TableSpec, lookback: Window, like: DataFrame
) -> DataFrame:
    """``(primary key, cursor)`` of the source's rows in the lookback, in ``like``'s types."""
    keyed = extract.projected(spec, src, _columns(spec))
    keys = extract.read(spark, src, keyed, lookback)[0]
    return keys.select(*[keys[c].cast(like.schema[c].dataType).alias(c) for c in _columns(spec)])


def _lake_versions(
    spark: SparkSession, table: Table, spec: TableSpec, win: Window, like: DataFrame
) -> DataFrame | None:
    """``(primary key, cursor)`` of the lake files whose cursor statistics meet ``win``, in
    ``like``'s types (None when no file does)."""
    return _versions(spark, _lake_files(table, spec, win), spec, like)


def _lake_files(table: Table, spec: TableSpec, win: Window) -> list[Any]:
    """The lake's data files whose cursor statistics meet ``win``."""
    assert spec.cursor is not None and win.lo is not None
    cursor_type = str(table.schema().find_field(spec.cursor).field_type)
    lo, cursor = lake.literal(win.lo, cursor_type), spec.cursor
    row_filter: BooleanExpression = GreaterThanOrEqual(cursor, lo)  # type: ignore[call-arg,arg-type]
    if win.hi is not None:
        below = LessThan(cursor, lake.literal(win.hi, cursor_type))  # type: ignore[call-arg,arg-type]
        row_filter = And(row_filter, below)
    return [task.file for task in table.scan(row_filter=row_filter).plan_files()]


def _versions(
    spark: SparkSession, files: list[Any], spec: TableSpec, like: DataFrame
) -> DataFrame | None:
    """``(primary key, cursor)`` of ``files``, in ``like``'s types (None without files)."""
    if not files:
        return None
    rows = spark.read.option("mergeSchema", "true").parquet(*[f.file_path for f in files])
    return rows.select(*[rows[c].cast(like.schema[c].dataType).alias(c) for c in _columns(spec)])


def _sized(spec: TableSpec, lake_rows: int) -> TableSpec:
    """``spec`` read in one partition when the lake holds too few lookback rows for two of
    :data:`extract.MIN_PARTITION_ROWS` (the source holds about as many): no bounds query."""
    return replace(spec, num_partitions=1) if lake_rows < 2 * extract.MIN_PARTITION_ROWS else spec


def _key_sql(src: Source, spec: TableSpec, win: Window) -> str:
    condition = extract.where(spec, replace(win, hi=win.watermark_before), src)
    return f"SELECT {_column_list(src.dialect, spec)} FROM {spec.relation} WHERE {condition}"


def _columns(spec: TableSpec) -> list[str]:
    assert spec.cursor is not None
    return list(dict.fromkeys([*spec.primary_key, spec.cursor]))


def _column_list(dialect: Dialect, spec: TableSpec) -> str:
    return ", ".join(dialect.quote(c) for c in _columns(spec))


def _key_predicates(
    dialect: Dialect, key: tuple[str, ...], values: list[tuple[Any, ...]]
) -> list[str] | None:
    """One WHERE condition per :data:`KEYS_PER_READ` keys; None when there are more than
    :data:`FETCH_LIMIT` keys or one cannot be written as a literal."""
    if not values or len(values) > FETCH_LIMIT:
        return None
    literals = [tuple(_literal(v) for v in row) for row in values]
    if any(lit is None for row in literals for lit in row):
        return None
    columns = [dialect.quote(c) for c in key]
    chunks = [literals[i : i + KEYS_PER_READ] for i in range(0, len(literals), KEYS_PER_READ)]
    return [_match(columns, chunk) for chunk in chunks]  # type: ignore[arg-type]


def _match(columns: list[str], rows: list[tuple[str, ...]]) -> str:
    """``k IN (…)`` for one key column; an OR of ANDs for a composite key (every dialect)."""
    if len(columns) == 1:
        return f"{columns[0]} IN ({', '.join(row[0] for row in rows)})"
    return " OR ".join(
        "(" + " AND ".join(f"{c} = {v}" for c, v in zip(columns, row, strict=True)) + ")"
        for row in rows
    )


def _literal(value: Any) -> str | None:
    """An integer or a plain string as a SQL literal every dialect reads alike (None else)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return str(int(value))
    if isinstance(value, str) and _PLAIN_TEXT.match(value):
        return f"'{value}'"
    return None
