"""The PostgreSQL COPY fast path (``source.extract: copy``) for full reads.

Each Spark task reads its partition's range with connectorx (binary ``COPY`` under the hood),
casts it to the schema Spark JDBC reports for the same query (so both paths build the same
table), and writes one Parquet file with pyarrow into the run's staging directory. The driver
then commits the files exactly like the JDBC path. Incremental windows (which need the
de-duplication against the lake) keep using Spark JDBC.

Spark tasks running Python need a ``SparkContext``: under Spark Connect (``spark.connect``) there
is none, so a run there reads with Spark JDBC instead and says so (``read.extract`` is
:data:`REMOTE_FALLBACK`); :func:`write` itself refuses a remote session.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import parse_qsl, quote, urlparse

import pyarrow as pa

from ingestion.job import connect
from ingestion.job.errors import JobError, RunExit
from ingestion.job.extract import ReadPlan
from ingestion.job.source import Source

STAGE = "extract"
REMOTE_FALLBACK = "jdbc (source.extract: copy needs a local Spark session, not Spark Connect)"
CHUNK_KEYS = 1_000_000  # at most this many keys per COPY: a task's Arrow table stays small


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


def connection_uri(source: Source) -> str:
    """``postgresql://user:password@host:port/db`` for connectorx (a secret: never log it)."""
    parsed = urlparse(source.url[len("jdbc:") :])
    user = quote(source.properties.get("user", ""), safe="")
    password = quote(source.properties.get("password", ""), safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    params = dict(parse_qsl(parsed.query))
    query = f"?sslmode={params['sslmode']}" if "sslmode" in params else ""
    return f"postgresql://{auth}{parsed.hostname}:{parsed.port or 5432}{parsed.path}{query}"


def partition_queries(plan: ReadPlan, source: Source) -> list[str]:
    """One SELECT per partition: explicit predicates, numeric ranges, or the whole query."""
    base = f"SELECT * FROM ({plan.sql}) salam_c"
    if plan.predicates:
        return [f"{base} WHERE {p}" for p in plan.predicates]
    if not plan.partition_column or not plan.bounds or plan.num_partitions <= 1:
        return [base]
    if not all(isinstance(b, int) or hasattr(b, "as_integer_ratio") for b in plan.bounds):
        return [base]  # timestamp / date partition columns: one COPY
    lo, hi = int(plan.bounds[0]), int(plan.bounds[1])
    count = max(plan.num_partitions, -(-(hi - lo + 1) // CHUNK_KEYS))  # bounded memory per task
    step = max(1, (hi - lo + 1 + count - 1) // count)
    column = source.dialect.quote(plan.partition_column)
    queries = []
    for start in range(lo, hi + 1, step):
        queries.append(f"{base} WHERE {column} >= {start} AND {column} < {start + step}")
    return queries


def write(
    spark: Any,
    source: Source,
    plan: ReadPlan,
    schema: pa.Schema,
    directory: str,
    constants: Mapping[str, Any],
) -> tuple[list[str], int]:
    """Run the partition queries as Spark tasks; return the Parquet files and the rows read.

    ``constants`` fill the columns the source does not have (the load columns).
    """
    if connect.is_remote(spark):
        raise JobError(
            STAGE,
            "source.extract: copy runs Python in Spark tasks, which Spark Connect cannot do",
            "run it in a local session (--set spark.connect=null) or use extract: jdbc",
            RunExit.INVALID,
        )
    queries = partition_queries(plan, source)
    uri = connection_uri(source)
    serialized = schema.serialize().to_pybytes()
    fixed = dict(constants)

    def task(items: Iterator[tuple[int, str]]) -> Iterator[tuple[str, int]]:
        yield from _read_and_write(items, uri, serialized, directory, fixed)

    slices = min(len(queries), max(1, plan.num_partitions))
    rdd = spark.sparkContext.parallelize(list(enumerate(queries)), slices)
    written = rdd.mapPartitions(task).collect()
    files = sorted(path for path, rows in written if rows)
    return files, sum(rows for _, rows in written)


def _read_and_write(
    items: Iterator[tuple[int, str]],
    uri: str,
    serialized: bytes,
    directory: str,
    constants: dict[str, Any],
) -> Iterator[tuple[str, int]]:
    import connectorx as cx
    import pyarrow.parquet as pq

    from ingestion.job import lake

    schema = pa.ipc.read_schema(pa.py_buffer(serialized))
    for index, sql in items:
        table = cx.read_sql(uri, sql, return_type="arrow")
        table = _conform(table, schema, constants)
        path = f"{directory.rstrip('/')}/part-{index:05d}-{uuid.uuid4().hex}.parquet"
        fs, local = lake.filesystem(path)
        fs.create_dir(local.rsplit("/", 1)[0], recursive=True)
        if table.num_rows:
            with fs.open_output_stream(local) as sink:
                pq.write_table(table, sink, compression="zstd")
        yield path, table.num_rows


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
