"""Extraction with Spark JDBC: the window's SQL, the source clock, partitioned parallel reads.

Bounds of a partitioned read are computed over the very window being read (Spark's
``lowerBound``/``upperBound`` only set the stride, they do not filter), by :func:`plan_read`,
which both the read and ``--dry-run`` use, so a dry run shows the partitioning the run will
use. ``fetchsize`` is always set. Without ``partition_column`` a single numeric primary key is
used; without any, one partition. ``predicates`` give one partition each. ``num_partitions`` is
a maximum (as Spark's ``numPartitions``): a slice of the table (an incremental or backfill
window, whose row count comes with its bounds) gets one partition per
:data:`MIN_PARTITION_ROWS` rows, so a small window is one JDBC read with no query placing cuts.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import types as T

from ingestion.job import dialects, direct, session, window
from ingestion.job.errors import JobError
from ingestion.job.source import Source, TableSpec
from ingestion.job.window import Window

STAGE = "extract"
# a window slice read in parallel gets at least this many rows per partition: below it, a
# partition's JDBC round trip and the query that places the cuts cost more than they save
MIN_PARTITION_ROWS = 50_000
_NUMERIC = (T.ByteType, T.ShortType, T.IntegerType, T.LongType, T.DecimalType)
_PARTITIONABLE = (*_NUMERIC, T.TimestampType, T.TimestampNTZType, T.DateType)


@dataclass
class ReadPlan:
    """What a read does, for ``--dry-run`` and the events."""

    sql: str
    partition_column: str | None = None
    num_partitions: int = 1
    bounds: tuple[Any, Any] | None = None
    predicates: list[str] = field(default_factory=list)
    lookback: dict[str, Any] | None = None  # an incremental window's key read (:mod:`.lookback`)

    def describe(self) -> dict[str, Any]:
        described: dict[str, Any] = {"sql": self.sql, "num_partitions": self.num_partitions}
        if self.partition_column:
            described["partition_column"] = self.partition_column
            described["bounds"] = (
                [str(b) for b in self.bounds] if self.bounds else "computed at run time"
            )
        if self.predicates:
            described["predicates"] = self.predicates
        if self.lookback:
            described["lookback"] = self.lookback
        return described


def where(spec: TableSpec, win: Window, source: Source) -> str | None:
    """The window's WHERE condition on the cursor column (None: read everything)."""
    if win.kind == window.FULL or spec.cursor is None:
        return None
    cursor = source.dialect.quote(spec.cursor)
    parts = []
    if win.lo is not None:
        parts.append(f"{cursor} >= {source.dialect.literal(win.lo)}")
    if win.hi is not None:
        below = f"{cursor} < {source.dialect.literal(win.hi)}"
        parts.append(below if win.lo is not None else f"({below} OR {cursor} IS NULL)")
    return " AND ".join(parts) or None


def projected(spec: TableSpec, source: Source, columns: list[str]) -> TableSpec:
    """``spec`` reading only ``columns`` (a key read): no predicates and no custom schema; its
    partition column kept when it is one of them."""
    listed = ", ".join(source.dialect.quote(c) for c in columns)
    return replace(
        spec,
        relation=f"(SELECT {listed} FROM {spec.relation}) salam_k",
        predicates=(),
        custom_schema=None,
        partition_column=spec.partition_column if spec.partition_column in columns else None,
    )


def select_sql(spec: TableSpec, win: Window, source: Source) -> str:
    condition = where(spec, win, source)
    sql = f"SELECT * FROM {spec.relation}"
    return f"{sql} WHERE {condition}" if condition else sql


def query(spark: SparkSession, source: Source, sql: str, schema: str | None = None) -> list[Any]:
    """Run a small query on the source and collect its rows: on the driver when
    :mod:`ingestion.job.direct` can reach the source, else through Spark JDBC (``schema``: the
    column types Spark gives them)."""
    if direct.usable(source):
        return direct.query(source, sql)
    reader = spark.read.format("jdbc").options(**source.options()).option("query", sql)
    if schema:
        reader = reader.option("customSchema", schema)
    return list(reader.load().collect())


def source_clock(spark: SparkSession, source: Source) -> datetime:
    """The source database's current UTC time."""
    rows = query(spark, source, source.dialect.now_sql, "now STRING")
    value = rows[0][0]
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return dialects.parse_clock(str(value))


def plan_read(spark: SparkSession, source: Source, spec: TableSpec, win: Window) -> ReadPlan:
    """How the window of ``spec`` is read: its SQL and its partitioning (column, bounds computed
    over the window itself, count). The one decision :func:`read` and ``--dry-run`` both use."""
    plan = ReadPlan(select_sql(spec, win, source))
    if spec.predicates:
        plan.predicates = list(spec.predicates)
        plan.num_partitions = len(spec.predicates)
        return plan
    wanted = spec.num_partitions or source.num_partitions or session.parallelism(spark)
    schema = _reader(spark, source, spec, plan).load().schema
    column = spec.partition_column or _numeric_key(spec, schema)
    if column is None or wanted <= 1:
        return plan
    _check_partitionable(spec, schema, column)
    kind = schema[column].dataType.simpleString()
    sliced = win.lo is not None  # a slice of the table, not the whole of it
    found = _bounds(spark, source, plan.sql, column, kind, count=sliced)
    if found is None:
        return plan
    lo, hi, keys = found
    plan.partition_column, plan.bounds = column, (lo, hi)
    plan.num_partitions = _partition_count(_at_most(wanted, keys), (lo, hi))
    if plan.num_partitions > 1 and _sparse(lo, hi, keys):
        starts = _tile_starts(spark, source, plan.sql, column, kind, plan.num_partitions)
        if len(starts) > 1:
            plan.predicates = _range_predicates(source.dialect.quote(column), starts)
            plan.num_partitions = len(plan.predicates)
    return plan


def read(
    spark: SparkSession, source: Source, spec: TableSpec, win: Window
) -> tuple[DataFrame, ReadPlan]:
    """The window of ``spec`` as a (lazy) DataFrame, read as :func:`plan_read` decides."""
    plan = plan_read(spark, source, spec, win)
    if plan.predicates:
        props = {k: v for k, v in _options(source, spec).items() if k != "url"}
        dbtable = f"({plan.sql}) salam_src"
        return spark.read.jdbc(
            source.url, dbtable, predicates=plan.predicates, properties=props
        ), plan
    reader = _reader(spark, source, spec, plan)
    if plan.num_partitions <= 1 or plan.bounds is None or plan.partition_column is None:
        return reader.load(), plan
    reader = reader.option("partitionColumn", plan.partition_column)
    reader = reader.option("numPartitions", str(plan.num_partitions))
    reader = reader.option("lowerBound", _bound_text(plan.bounds[0]))
    return reader.option("upperBound", _bound_text(plan.bounds[1])).load(), plan


def _options(source: Source, spec: TableSpec) -> dict[str, str]:
    options = source.options()
    if spec.custom_schema:
        options["customSchema"] = spec.custom_schema
    return options


def _reader(spark: SparkSession, source: Source, spec: TableSpec, plan: ReadPlan) -> Any:
    """A JDBC reader of the plan's SQL (one partition until partitioning options are added)."""
    options = _options(source, spec)
    return spark.read.format("jdbc").options(**options).option("dbtable", f"({plan.sql}) salam_src")


def _numeric_key(spec: TableSpec, schema: T.StructType) -> str | None:
    if len(spec.primary_key) != 1 or spec.primary_key[0] not in schema.fieldNames():
        return None
    key = spec.primary_key[0]
    return key if isinstance(schema[key].dataType, _NUMERIC) else None


def _check_partitionable(spec: TableSpec, schema: T.StructType, column: str) -> None:
    if column not in schema.fieldNames():
        raise JobError(
            STAGE,
            f"partition_column '{column}' is not a column of {spec.source_name}",
            f"columns: {', '.join(schema.fieldNames())}",
        )
    if not isinstance(schema[column].dataType, _PARTITIONABLE):
        raise JobError(
            STAGE,
            f"partition_column '{column}' of {spec.source_name} is "
            f"{schema[column].dataType.simpleString()}, not numeric, date or timestamp",
            "choose a numeric, date or timestamp column, or give predicates",
        )


def _bounds(
    spark: SparkSession, source: Source, sql: str, column: str, kind: str, count: bool
) -> tuple[Any, Any, int | None] | None:
    """The column's lowest and highest value in the rows of ``sql`` (None when it has none),
    and with ``count`` how many rows hold a value."""
    quoted = source.dialect.quote(column)
    counted = f", COUNT({quoted}) AS n" if count else ""
    sql = f"SELECT MIN({quoted}) AS lo, MAX({quoted}) AS hi{counted} FROM ({sql}) salam_b"
    schema = f"lo {kind}, hi {kind}" + (", n BIGINT" if count else "")
    row = query(spark, source, sql, schema)[0]
    if row[0] is None or row[1] is None:
        return None
    return row[0], row[1], row[2] if count else None


def _sparse(lo: Any, hi: Any, keys: int | None) -> bool:
    """Whether fewer than half the integer keys between ``lo`` and ``hi`` are there."""
    if keys is None or not isinstance(lo, int | Decimal) or not isinstance(hi, int | Decimal):
        return False
    return keys * 2 < int(hi) - int(lo) + 1


def _tile_starts(
    spark: SparkSession, source: Source, sql: str, column: str, kind: str, tiles: int
) -> list[Any]:
    """The lowest value of each of ``tiles`` groups of equally many rows of ``sql``, sorted
    by ``column``; a value shared by two groups starts only the first."""
    quoted = source.dialect.quote(column)
    tiled = (
        f"SELECT {quoted} AS k, NTILE({tiles}) OVER (ORDER BY {quoted}) AS salam_tile "
        f"FROM ({sql}) salam_w WHERE {quoted} IS NOT NULL"
    )
    rows = query(
        spark,
        source,
        f"SELECT MIN(k) AS lo FROM ({tiled}) salam_t GROUP BY salam_tile",
        f"lo {kind}",
    )
    return sorted({row[0] for row in rows})


def _range_predicates(column: str, starts: list[Any]) -> list[str]:
    """One WHERE condition per range ``[start, next start)`` (two starts or more): the first
    also takes NULLs, the last is open above."""
    bounds = [str(start) for start in starts]
    predicates = []
    for i, start in enumerate(bounds):
        lower = f"{column} >= {start}" if i else None
        upper = f"{column} < {bounds[i + 1]}" if i + 1 < len(bounds) else None
        condition = " AND ".join(part for part in (lower, upper) if part)
        predicates.append(condition if i else f"({condition} OR {column} IS NULL)")
    return predicates


def _at_most(wanted: int, rows: int | None) -> int:
    """``wanted`` partitions (the maximum, as Spark's ``numPartitions``), fewer when a slice
    of ``rows`` rows would leave each under :data:`MIN_PARTITION_ROWS`."""
    return wanted if rows is None else max(1, min(wanted, rows // MIN_PARTITION_ROWS))


def _partition_count(wanted: int, bounds: tuple[Any, Any]) -> int:
    lo, hi = bounds
    if isinstance(lo, int | float) or hasattr(lo, "as_integer_ratio"):
        span = int(hi) - int(lo) + 1
        return max(1, min(wanted, span))
    return wanted if lo != hi else 1


def _bound_text(value: Any) -> str:
    if isinstance(value, datetime):
        value = value.astimezone(UTC) if value.tzinfo else value
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    if hasattr(value, "as_integer_ratio") and not isinstance(value, int):
        return str(int(value))
    return str(value)
