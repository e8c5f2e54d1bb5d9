"""Benchmark: what an incremental run costs as its lookback grows, for 20 changed rows.

Usage: ``.venv/bin/python bench/ingest_lookback.py --lookback 100000 --lookback 1000000
[--code DIR]``

For each lookback size L, on a PostgreSQL 15 started here (temp dir, loopback port): a table of
L usage records, all stamped within the last hour (so every one of them is in a 1 h lookback),
is loaded in full (``append``) by one process; then 10 rows committed late (stamped 20 minutes
ago, inside the lookback) and 10 new rows arrive, and a second, fresh process runs the
incremental window. Reported for that run: seconds, rows read whole, lookback keys compared,
rows written, and the peak RSS of its Python driver and of its JVM (VmHWM). ``--code DIR`` runs
another checkout of the project (e.g. a ``git worktree`` of the commit before a change) against
the same set-up, for a before/after within one run. Set-up helpers: bench/ingest_full_load.py.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import ingest_full_load as setup

from tests.ingestion.job import pgserver

RUN = """
import json, resource, sys, time
from pathlib import Path
from ingestion.config import loader
from ingestion.job import session
from ingestion.job.runner import RunOptions, run
config, run_id = Path(sys.argv[1]), sys.argv[2]
environment, job = loader.load_job(config)
spark = session.get(environment.settings, job.data, "salam-bench-lookback")
spark.range(1).count()
t = time.perf_counter()
table = run(environment, job, RunOptions(run_id=run_id), spark=spark).tables[0]
seconds = time.perf_counter() - t
jvm = spark.sparkContext._jvm.java.lang.ProcessHandle.current().pid()
hwm = [l for l in open(f"/proc/{jvm}/status") if l.startswith("VmHWM")][0].split()[1]
found = table.read.get("lookback") or {}
print(json.dumps({"seconds": seconds, "rows_read": table.rows_read,
                  "keys": found.get("keys"), "missing": found.get("missing"),
                  "read": found.get("read"), "rows_written": table.rows_written,
                  "python_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "jvm_mib": int(hwm) / 1024}))
"""


def seed(port: int, rows: int) -> None:
    """``rows`` usage records stamped evenly between 50 and 5 minutes ago."""
    with _connect(port) as conn:
        conn.execute("DROP TABLE IF EXISTS usage_records")
        conn.execute(setup.USAGE_DDL)
        conn.execute(
            "INSERT INTO usage_records SELECT g, '+9198' || lpad(g::text, 8, '0'),"
            " timestamptz '2024-01-01 00:00:00+00' + g * interval '1 second', g * 0.0125,"
            f" now() - interval '50 minutes' + g * (interval '45 minutes' / {rows})"
            f" FROM generate_series(1, {rows}) g"
        )
        conn.execute("CREATE INDEX usage_updated ON usage_records (updated_at)")
        conn.execute("VACUUM ANALYZE usage_records")


def change(port: int, rows: int) -> None:
    """10 rows committed late (stamped inside the lookback) and 10 new rows."""
    with _connect(port) as conn:
        for first, stamp in ((rows + 1, "now() - interval '20 minutes'"), (rows + 11, "now()")):
            conn.execute(
                "INSERT INTO usage_records SELECT g, 'x', now(), 1, "
                f"{stamp} FROM generate_series({first}, {first + 9}) g"
            )


def _connect(port: int) -> Any:
    import psycopg

    return psycopg.connect(
        host="127.0.0.1", port=port, user="postgres", password=setup.PASSWORD, autocommit=True
    )


def child(code: Path, config: Path, run_id: str) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(code), "SPARK_LOCAL_IP": "127.0.0.1"}
    out = subprocess.run(
        [sys.executable, "-c", RUN, str(config), run_id],
        cwd=config.parents[3],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def measure(workdir: Path, port: int, rows: int, code: Path) -> dict[str, Any]:
    seed(port, rows)
    config = setup.project(workdir / f"project{rows}", port, f"lb{rows}")
    job = yaml.safe_load(config.read_text())
    job["load"]["write_disposition"] = "append"
    config.write_text(yaml.safe_dump(job))
    child(code, config, "full")
    change(port, rows)
    return child(code, config, "incremental")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lookback", type=int, action="append", help="rows in the lookback")
    parser.add_argument("--code", type=Path, default=setup.REPO, help="checkout to run")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="salam-bench-lookback-"))
    workdir.chmod(0o755)
    pg_dir = workdir / "pg"
    pg_dir.mkdir()
    port = pgserver.start(pg_dir, setup.PASSWORD, "-c shared_buffers=512MB")
    os.environ["BENCH_PG_PASSWORD"] = setup.PASSWORD
    results = {}
    try:
        for rows in args.lookback or [100_000, 1_000_000]:
            results[rows] = measure(workdir, port, rows, args.code.resolve())
            print(json.dumps({rows: results[rows]}), flush=True)
    finally:
        pgserver.stop(pg_dir)
    print(report(results, args.code))


def report(results: dict[int, dict[str, Any]], code: Path) -> str:
    lines = [
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, {os.cpu_count()} cores, "
        f"code: {code}",
        "",
        "| lookback rows | run s | rows read whole | keys compared | missing (read) "
        "| rows written | Python peak MiB | JVM peak MiB |",
        "|---:|---:|---:|---:|---|---:|---:|---:|",
    ]
    for rows, m in results.items():
        lines.append(
            f"| {rows:,} | {m['seconds']:.2f} | {m['rows_read']} | {m['keys'] or '-'} "
            f"| {m['missing'] if m['missing'] is not None else '-'} ({m['read'] or '-'}) "
            f"| {m['rows_written']} | {m['python_mib']:.0f} | {m['jvm_mib']:.0f} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
