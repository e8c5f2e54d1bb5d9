"""Benchmark: the completeness count queries (below the window, NULL cursor) at 1 M rows.

Usage: ``.venv/bin/python bench/ingest_completeness.py [--rows 1000000]``

Seeds the table of ``bench/ingest_full_load.py`` (its ``seed``: index on ``updated_at``,
``VACUUM ANALYZE``) on a PostgreSQL 15 started here, then times each source count query through
Spark JDBC (``local[2]``, session already started; best of 3) and prints the planner's choice;
then times the lake side (:func:`ingestion.job.completeness.lake_counts`) over a Parquet copy of
the same keys and cursors, as a merge table and as an append table (latest version per key).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.ingest_full_load import JARS, PASSWORD, seed
from ingestion.job import completeness, dialects
from ingestion.job.source import APPEND, Source, TableSpec
from tests.ingestion.job import pgserver

SPEC = TableSpec(
    "usage_records", "usage_records", "usage_records", ("usage_id",), "updated_at",
    None, None, (), None,
)  # fmt: skip


def spark_session() -> Any:
    os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.master("local[2]").config("spark.jars", ",".join(JARS))
    return builder.config("spark.ui.enabled", "false").getOrCreate()


def source(port: int) -> Source:
    url = f"jdbc:postgresql://127.0.0.1:{port}/postgres"
    props = {"user": "postgres", "password": PASSWORD}
    return Source(url, "org.postgresql.Driver", dialects.DIALECTS["postgresql"], 10000, None,
                  "postgres", props, (PASSWORD,))  # fmt: skip


def plan(port: int, sql: str) -> str:
    import psycopg

    with psycopg.connect(host="127.0.0.1", port=port, user="postgres", password=PASSWORD) as conn:
        rows = conn.execute(f"EXPLAIN {sql}").fetchall()
    return " / ".join(r[0].strip() for r in rows if "Scan" in r[0])


def timed(spark: Any, src: Source, kind: str, lo: datetime) -> tuple[float, int]:
    best, count = float("inf"), 0
    for _ in range(3):
        started = time.perf_counter()
        count = completeness.source_count(spark, src, SPEC, kind, lo)
        best = min(best, time.perf_counter() - started)
    return best, count


def lake_timed(spark: Any, src: Source, directory: Path, lo: datetime) -> None:
    """Time the lake-side counts over a Parquet copy of the source's keys and cursors."""
    props = {k: v for k, v in src.options().items() if k != "url"}
    keys = spark.read.jdbc(
        src.url, "(SELECT usage_id, updated_at FROM usage_records) k", properties=props
    )
    keys.write.mode("overwrite").parquet(str(directory))
    rows = spark.read.parquet(str(directory))
    for name, spec in (("merge", SPEC), ("append", replace(SPEC, write_disposition=APPEND))):
        what = completeness.Check(spec, lo, lo.isoformat(timespec="microseconds"))
        best, found = float("inf"), {}
        for _ in range(3):
            started = time.perf_counter()
            found = completeness.lake_counts(rows, what)
            best = min(best, time.perf_counter() - started)
        print(f"| lake, {name} table | {found} | {best:.2f} s | Spark over Parquet |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    rows = parser.parse_args().rows
    workdir = Path(tempfile.mkdtemp(prefix="salam-bench-completeness-"))
    workdir.chmod(0o755)  # initdb runs as the postgres user
    pg_dir = workdir / "pg"
    pg_dir.mkdir()
    port = pgserver.start(pg_dir, PASSWORD)
    try:
        seed(port, rows)
        src, spark = source(port), spark_session()
        last = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(seconds=rows)
        lo = last - timedelta(hours=1)  # all but the last hour is below the window
        print(f"{rows} rows, {platform.node()}, {os.cpu_count()} cores, {datetime.now(UTC):%F}")
        for kind in completeness.KINDS:
            seconds, count = timed(spark, src, kind, lo)
            sql = completeness.count_sql(SPEC, src, kind, lo)
            print(f"| {kind} | {count} | {seconds:.2f} s | {plan(port, sql)} |")
        lake_timed(spark, src, workdir / "lake", lo)
        spark.stop()
    finally:
        pgserver.stop(pg_dir, "immediate")
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
