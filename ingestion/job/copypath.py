"""The PostgreSQL COPY fast path (``source.extract: copy``) for full reads.

Each Spark task streams its partition's range with connectorx (binary ``COPY`` under the hood) in
Arrow batches of :data:`ROWS_PER_BATCH`, casts each batch to the schema Spark JDBC reports for the
same query (so both paths build the same table), and writes it as one row group of a Parquet file
in the run's staging directory: a task holds one batch at a time, whatever its partition's size.
The driver then commits the files exactly like the JDBC path. Incremental windows (which need the
de-duplication against the lake) keep using Spark JDBC.

The tasks are a ``mapInArrow`` over one row per partition query, so the path runs the same in a
local session and in the warm engine (Spark Connect): there the engine's Python workers run them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack
from typing import Any

import pyarrow as pa

from ingestion.job import direct
from ingestion.job.errors import JobError, RunExit
from ingestion.job.extract import ReadPlan
from ingestion.job.source import Source

ROWS_PER_BATCH = 1 << 20  # one Arrow batch in a task's memory, one Parquet row group
WRITTEN = "path string, rows long"  # what each task reports to the driver


def usable(source: Source) -> bool:
    return source.extract == "copy"


def check(source: Source) -> None:
    """Fail early (terminal) when the fast path cannot run here."""
    if source.dialect.name != "postgresql":
        raise JobError(
            "config",
            f"source.extract: copy needs PostgreSQL, not {source.dialect.name}",
            "use extract: jdbc for this source",
            RunExit.INVALID,
        )
    try:
        import connectorx  # noqa: F401
    except ImportError:
        raise JobError(
            "config",
            "source.extract: copy needs the connectorx package",
            "pip install connectorx, or use extract: jdbc",
            RunExit.INVALID,
        ) from None


def partition_queries(plan: ReadPlan, source: Source, primary_key: Sequence[str] = ()) -> list[str]:
    """One SELECT per partition: explicit predicates, numeric ranges, or the whole query.

    Ranges split ``plan.bounds`` evenly into ``plan.num_partitions``; the first also takes the
    rows whose partition column is NULL (as Spark JDBC's first partition does), unless the column
    is part of ``primary_key``.
    """
    base = f"SELECT * FROM ({plan.sql}) salam_c"
    if plan.predicates:
        return [f"{base} WHERE {p}" for p in plan.predicates]
    if not plan.partition_column or not plan.bounds or plan.num_partitions <= 1:
        return [base]
    if not all(isinstance(b, int) or hasattr(b, "as_integer_ratio") for b in plan.bounds):
        return [base]  # timestamp / date partition columns: one COPY
    lo, hi = int(plan.bounds[0]), int(plan.bounds[1])
    step = max(1, -(-(hi - lo + 1) // plan.num_partitions))
    column = source.dialect.quote(plan.partition_column)
    starts = range(lo, hi + 1, step)
    ranges = [f"{column} >= {start} AND {column} < {start + step}" for start in starts]
    if plan.partition_column not in primary_key:  # a key is never NULL: no seq scan for one
        ranges[0] = f"({ranges[0]}) OR {column} IS NULL"
    return [f"{base} WHERE {r}" for r in ranges]


def write(
    spark: Any,
    source: Source,
    plan: ReadPlan,
    primary_key: Sequence[str],
    schema: pa.Schema,
    directory: str,
    constants: Mapping[str, Any],
) -> tuple[list[str], int]:
    """Run the partition queries as Spark tasks; return the Parquet files and the rows read.

    ``constants`` fill the columns the source does not have (the load columns).
    """
    queries = partition_queries(plan, source, primary_key)
    uri = direct.connection_uri(source)
    serialized = schema.serialize().to_pybytes()
    fixed = dict(constants)

    def task(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            for index in batch.column("id").to_pylist():
                sql = queries[index]
                path, rows = _read_and_write(index, sql, uri, serialized, directory, fixed)
                yield pa.RecordBatch.from_pydict({"path": [path], "rows": [rows]})

    tasks = spark.range(0, len(queries), 1, len(queries))
    written = tasks.mapInArrow(task, WRITTEN).collect()
    files = sorted(row["path"] for row in written if row["rows"])
    return files, sum(row["rows"] for row in written)


def start_workers(spark: Any, cores: int) -> None:
    """Start a Python worker per core with the tasks' imports done (the engine's warm-up)."""
    spark.range(0, cores, 1, cores).mapInArrow(_imported, "ok boolean").collect()


def _imported(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    import connectorx  # noqa: F401
    import pyarrow.parquet  # noqa: F401

    for batch in batches:
        yield pa.RecordBatch.from_pydict({"ok": [True] * batch.num_rows})


def _read_and_write(
    index: int,
    sql: str,
    uri: str,
    serialized: bytes,
    directory: str,
    constants: dict[str, Any],
) -> tuple[str, int]:
    """Stream one query into one Parquet file (none when it returns no rows)."""
    import connectorx as cx

    from ingestion.job import lake

    schema = pa.ipc.read_schema(pa.py_buffer(serialized))
    path = f"{directory.rstrip('/')}/part-{index:05d}-{uuid.uuid4().hex}.parquet"
    fs, local = lake.filesystem(path)
    reader = cx.read_sql(uri, sql, return_type="arrow_stream", batch_size=ROWS_PER_BATCH)
    rows = 0
    with ExitStack() as open_file:
        writer = None
        for batch in reader:
            if not batch.num_rows:
                continue
            if writer is None:
                fs.create_dir(local.rsplit("/", 1)[0], recursive=True)
                sink = open_file.enter_context(fs.open_output_stream(local))
                writer = open_file.enter_context(_writer(sink, schema))
            writer.write_table(_conform(pa.Table.from_batches([batch]), schema, constants))
            rows += batch.num_rows
    return path, rows


def _writer(sink: Any, schema: pa.Schema) -> Any:
    """zstd Parquet with dictionary pages for text columns only: numbers and times (keys,
    cursors, amounts) are mostly distinct, and a dictionary costs the encoder a hash per value
    until it falls back to plain pages."""
    import pyarrow.parquet as pq

    text = [
        f.name for f in schema if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)
    ]
    return pq.ParquetWriter(sink, schema, compression="zstd", use_dictionary=text)


def _conform(table: pa.Table, schema: pa.Schema, constants: dict[str, Any]) -> pa.Table:
    """Cast connectorx's Arrow types onto the JDBC schema (safe casts only), add the constants."""
    columns = []
    for field in schema:
        if field.name in constants:
            columns.append(pa.repeat(pa.scalar(constants[field.name], field.type), table.num_rows))
            continue
        column = table.column(field.name)
        columns.append(column.cast(field.type) if column.type != field.type else column)
    return pa.Table.from_arrays(columns, schema=schema)
