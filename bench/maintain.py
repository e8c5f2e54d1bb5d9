"""Benchmark (issue 20): one ``ingest maintain`` pass over a table of N rows in F small files.

Builds, in a temporary directory, an Iceberg table in a SQLite catalog the way incremental runs
leave it: F Parquet files of N / F usage-record rows each, committed one snapshot per file (as F
runs would). Then times one maintenance pass (compaction into files of up to the target size,
expiry of every snapshot but the new head, removal of the files nothing references), step by
step, and reports the files and snapshots before and after, and this process's peak RSS.
Prints Markdown with the machine and the date.

    .venv/bin/python bench/maintain.py [--rows 5000000] [--files 200] [--target-mib 128]
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as bench/maintain.py

import pyarrow as pa
import pyarrow.parquet as pq
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.table import Table

from ingestion.job import lake, maintain

T = TypeVar("T")


def usage_rows(first: int, count: int) -> pa.Table:
    """``count`` usage records from key ``first`` (the shape of the tests' usage_records)."""
    keys = pa.array(range(first, first + count), pa.int64())
    started = pa.array(
        [datetime(2024, 5, 1, tzinfo=UTC) + timedelta(seconds=k) for k in range(count)],
        pa.timestamp("us", tz="UTC"),
    )
    return pa.table(
        {
            "usage_id": keys,
            "msisdn": pa.array([f"+9198{k:08d}" for k in range(first, first + count)]),
            "started_at": started,
            "amount": pa.array([k * 0.0125 for k in range(count)], pa.float64()),
        }
    )


def build(directory: Path, rows: int, files: int) -> Table:
    """The table: ``files`` snapshots, each adding one file of ``rows // files`` rows."""
    catalog = SqlCatalog(
        "bench", uri=f"sqlite:///{directory}/catalog.db", warehouse=f"file://{directory}/wh"
    )
    catalog.create_namespace("bss_raw")
    each = rows // files
    table = catalog.create_table(
        "bss_raw.usage_records", schema=usage_rows(0, 1).schema, properties=lake.NO_REBASE
    )
    data = directory / "wh" / "bss_raw" / "usage_records" / "data"
    for index in range(files):
        path = data / f"{lake.RUN_DIR_PREFIX}{index:05d}" / "part-00000.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(usage_rows(index * each, each), path, compression="zstd")
        table.add_files([f"file://{path}"])
    return catalog.load_table("bss_raw.usage_records")


def timed(step: str, action: Callable[[], T], timings: dict[str, float]) -> T:
    start = time.perf_counter()
    result = action()
    timings[step] = time.perf_counter() - start
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--target-mib", type=int, default=128)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        table = build(Path(tmp), args.rows, args.files)
        built = time.perf_counter() - started
        files_before = len(table.inspect.files())
        snapshots_before = len(table.snapshots())
        later = datetime.now(UTC) + timedelta(seconds=1)
        timings: dict[str, float] = {}
        compacted = timed(
            "compact", lambda: maintain.compact(table, args.target_mib * 1024 * 1024), timings
        )
        table.refresh()
        expired = timed("expire", lambda: maintain.expire(table, later), timings)
        table.refresh()
        removed = timed("orphans", lambda: maintain.remove_orphans(table, later), timings)
        table.refresh()
        rows = table.scan().to_arrow().num_rows
        files_after = len(table.inspect.files())
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    lines = [
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}; {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; "
        f"load {os.getloadavg()[0]:.2f}",
        "",
        f"Table: {args.rows:,} rows in {files_before} files, {snapshots_before} snapshots "
        f"(built in {built:.1f} s); target {args.target_mib} MiB",
        "",
        "| step | seconds | result |",
        "|---|---:|---|",
        f"| compact | {timings['compact']:.2f} | {compacted[0]} files into {compacted[1]} |",
        f"| expire | {timings['expire']:.2f} | {expired} snapshots expired |",
        f"| orphans | {timings['orphans']:.2f} | {removed[0]} files removed ({removed[1]:,} B) |",
        f"| **whole pass** | **{sum(timings.values()):.2f}** | {files_after} file(s), "
        f"{rows:,} rows after |",
        "",
        f"Peak RSS of this process: {peak_mib:.0f} MiB",
    ]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
