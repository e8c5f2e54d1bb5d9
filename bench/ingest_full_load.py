"""Benchmark: one PostgreSQL table (usage records) → binary COPY, connectorx → Parquet, Salam.

Usage: ``.venv/bin/python bench/ingest_full_load.py --rows 5000000 [--rows 20000000]``

For each size, in one run on a PostgreSQL 15 started here (temp dir, loopback port):
  1. binary ``COPY TO STDOUT`` drained by psycopg (the physical limit);
  2. connectorx (2 partitions) → Arrow → Parquet (zstd), the fastest single-node peer;
  3. Salam's full load to a committed Iceberg snapshot in a Spark session that has already run
     one (warm, as an engine that serves runs is: Python workers started, JDBC driver loaded;
     the session's first full load is reported too), then an incremental run after 1 % of the
     rows changed;
  4. Salam from a cold start: ``python -m ingestion --config …`` into a fresh lake.
Peak memory is the maximum RSS of the measuring process (VmHWM; for Salam warm, the JVM's and
the largest Python worker's: the COPY path's tasks run there).
Figures are printed as a Markdown table to paste into bench/results/ingest.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.ingestion.job import pgserver

REPO = Path(__file__).resolve().parents[1]

PASSWORD = "bench-pw"
EXTRACT = ["jdbc"]  # set by --extract
JARS = ["/usr/share/java/postgresql.jar", "/usr/share/java/sqlite-jdbc.jar"]
USAGE_DDL = (
    "CREATE TABLE usage_records (usage_id bigint PRIMARY KEY, msisdn text NOT NULL,"
    " started_at timestamptz NOT NULL, charge numeric(14,4) NOT NULL,"
    " updated_at timestamptz NOT NULL)"
)


def seed(port: int, rows: int) -> float:
    import psycopg

    started = time.perf_counter()
    with psycopg.connect(
        host="127.0.0.1",
        port=port,
        user="postgres",
        password=PASSWORD,
        dbname="postgres",
        autocommit=True,
    ) as conn:
        conn.execute("DROP TABLE IF EXISTS usage_records")
        conn.execute(USAGE_DDL)
        conn.execute(
            "INSERT INTO usage_records SELECT g, '+9198' || lpad((g % 100000000)::text, 8, '0'),"
            " timestamptz '2024-01-01 00:00:00+00' + g * interval '1 second',"
            " (g % 100000) * 0.0125,"
            " timestamptz '2024-01-01 00:00:00+00' + g * interval '1 second'"
            f" FROM generate_series(1, {rows}) g"
        )
        conn.execute("CREATE INDEX usage_updated ON usage_records (updated_at)")
        conn.execute("VACUUM ANALYZE usage_records")
    return time.perf_counter() - started


def child(code: str, *args: str) -> dict[str, float]:
    """Run ``code`` in a fresh Python; it prints a JSON dict; add its peak RSS (MiB)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdout=subprocess.PIPE,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO), "SPARK_LOCAL_IP": "127.0.0.1"},
    )
    out = proc.stdout.read() if proc.stdout else b""
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        raise RuntimeError(f"child failed ({status})")
    result = json.loads(out.decode().strip().splitlines()[-1])
    result.setdefault("peak_mib", usage.ru_maxrss / 1024)
    return result


COPY = """
import json, sys, time, psycopg
port = int(sys.argv[1])
pw = sys.argv[2]
with psycopg.connect(host="127.0.0.1", port=port, user="postgres", password=pw) as c:
    t = time.perf_counter(); n = 0
    with c.cursor().copy("COPY usage_records TO STDOUT (FORMAT binary)") as copy:
        for block in copy:
            n += len(block)
    print(json.dumps({"seconds": time.perf_counter() - t, "bytes": n}))
"""

CONNECTORX = """
import json, sys, time, connectorx as cx, pyarrow.parquet as pq
port, pw, out = sys.argv[1], sys.argv[2], sys.argv[3]
t = time.perf_counter()
url = f"postgresql://postgres:{pw}@127.0.0.1:{port}/postgres"
table = cx.read_sql(url, "SELECT * FROM usage_records", return_type="arrow",
                    partition_on="usage_id", partition_num=2)
pq.write_table(table, out, compression="zstd")
print(json.dumps({"seconds": time.perf_counter() - t, "rows": table.num_rows}))
"""

SALAM_WARM = """
import json, os, sys, time
from pathlib import Path
from ingestion.config import loader
from ingestion.job import session
from ingestion.job.runner import RunOptions, run
import psycopg

def hwm_mib(pid):
    with open(f"/proc/{pid}/status") as status:
        return int([l for l in status if l.startswith("VmHWM")][0].split()[1]) / 1024

def workers_peak_mib(jvm):  # the largest Python worker (COPY path tasks) below the JVM
    parents = {}
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/stat") as stat:
                parents[int(entry)] = int(stat.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError):
            continue
    below, found = {jvm}, True
    while found:
        found = {p for p, parent in parents.items() if parent in below} - below
        below |= found
    return max((hwm_mib(p) for p in below - {jvm}), default=0.0)

config, port, pw = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
environment, job = loader.load_job(config)
t = time.perf_counter()
spark = session.get(environment.settings, job.data, "salam-bench")
spark.range(1).count()
start = time.perf_counter() - t
t = time.perf_counter()
run(environment, job, RunOptions(run_id="first"), spark=spark)
first_s = time.perf_counter() - t
t = time.perf_counter()  # the warm figure: a session that has run a job, as an engine has
full = run(environment, job, RunOptions(run_id="full", full_refresh=True), spark=spark)
full_s = time.perf_counter() - t
jvm = spark.sparkContext._jvm.java.lang.ProcessHandle.current().pid()
rows, peaks = full.tables[0].rows_written, (hwm_mib(jvm), workers_peak_mib(jvm))
with psycopg.connect(host="127.0.0.1", port=port, user="postgres", password=pw, dbname="postgres",
                     autocommit=True) as c:
    c.execute("UPDATE usage_records SET charge = charge + 1, updated_at = now()"
              " WHERE usage_id % 100 = 0")
t = time.perf_counter()
inc = run(environment, job, RunOptions(run_id="inc"), spark=spark)
inc_s = time.perf_counter() - t
print(json.dumps({"session_s": start, "first_s": first_s, "seconds": full_s, "rows": rows,
                  "peak_mib": peaks[0], "workers_peak_mib": peaks[1],
                  "extract": full.tables[0].read.get("extract"),
                  "incremental_s": inc_s, "incremental_rows": inc.tables[0].rows_read,
                  "partitions": full.tables[0].read.get("num_partitions")}))
"""


def project(root: Path, port: int, name: str) -> Path:
    env = {
        "environment": "bench",
        "state_dir": ".salam/state",
        "workdir": ".",
        "crontab": {
            "target": {"file": ".salam/cron/b.cron"},
            "host_timezone": "UTC",
            "supports_cron_tz": False,
            "lock_dir": ".salam/locks",
        },
        "spark": {
            "master": "local[2]",
            "jars": JARS,
            "conf": {"spark.ui.enabled": "false", "spark.sql.shuffle.partitions": "2"},
        },
        "lake": {
            "catalog": {
                "name": "salam",
                "type": "sql",
                "uri": f"sqlite:///.salam/{name}/catalog.db",
            },
            "warehouse": f"file://.salam/{name}/warehouse",
        },
        "events": {"sink": "file", "path": ".salam/events/bench.jsonl"},
    }
    job = {
        "name": name,
        "source": {
            "extract": EXTRACT[0],
            "jdbc_url": f"jdbc:postgresql://127.0.0.1:{port}/postgres",
            "driver": "org.postgresql.Driver",
            "user": "postgres",
            "password_ref": "env:BENCH_PG_PASSWORD",
            "fetchsize": 100000,
            "num_partitions": 2,
            "tables": [{"name": "usage_records", "primary_key": ["usage_id"]}],
        },
        "load": {
            "mode": "incremental",
            "cursor_column": "updated_at",
            "lookback": "1h",
            "safety_lag": "0s",
        },
        "target": {"namespace": "bench"},
        "spark": {"driver_memory": "2g"},
        "runtime": {"orchestration": {"mode": "plain_cron", "cron": {"expression": "0 * * * *"}}},
    }
    jobs = root / "environments" / "bench" / "jobs"
    jobs.mkdir(parents=True, exist_ok=True)
    (root / "environments" / "bench" / "environment.yaml").write_text(yaml.safe_dump(env))
    (jobs / f"{name}.yaml").write_text(yaml.safe_dump(job))
    return jobs / f"{name}.yaml"


def cold(config: Path, root: Path) -> dict[str, float]:
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "ingestion", "--config", str(config)],
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(REPO), "SPARK_LOCAL_IP": "127.0.0.1"},
    )
    _, status, _ = os.wait4(proc.pid, 0)
    if status != 0:
        raise RuntimeError(f"cold run failed ({status})")
    return {"seconds": time.perf_counter() - started}


def measure(rows: int, workdir: Path) -> dict[str, dict[str, float]]:
    pg_dir = workdir / f"pg{rows}"
    pg_dir.mkdir()
    port = pgserver.start(pg_dir, PASSWORD, "-c shared_buffers=512MB")
    os.environ["BENCH_PG_PASSWORD"] = PASSWORD
    try:
        seeded = seed(port, rows)
        root = workdir / f"project{rows}"
        results = {
            "seed": {"seconds": seeded},
            "copy": child(COPY, str(port), PASSWORD),
            "connectorx": child(
                CONNECTORX, str(port), PASSWORD, str(workdir / f"cx{rows}.parquet")
            ),
            "salam_warm": child(SALAM_WARM, str(project(root, port, "warm")), str(port), PASSWORD),
        }
        # the warm run changed 1 % of the rows: re-seed so that the cold run reads the same table
        seed(port, rows)
        results["salam_cold"] = cold(project(root, port, "cold"), root)
        return results
    finally:
        pgserver.stop(pg_dir)


def report(rows: int, r: dict[str, dict[str, float]]) -> str:
    def rate(key: str) -> float:
        return rows / r[key]["seconds"]

    warm, cx, cp = rate("salam_warm"), rate("connectorx"), rate("copy")
    sw = r["salam_warm"]
    table = [
        ("binary COPY TO (psycopg, 1 stream)", "copy", f"{r['copy']['peak_mib']:.0f}"),
        (
            "connectorx (2 partitions) -> Parquet",
            "connectorx",
            f"{r['connectorx']['peak_mib']:.0f}",
        ),
        (
            "Salam full load -> Iceberg snapshot (warm: the session's second full load)",
            "salam_warm",
            f"{sw['peak_mib']:.0f} (JVM), {sw['workers_peak_mib']:.0f} (largest Python worker)",
        ),
        ("Salam full load, cold start (`python -m ingestion`)", "salam_cold", "-"),
    ]
    lines = [
        f"### {rows:,} rows",
        "",
        "| path | seconds | rows/s | peak RSS MiB |",
        "|---|---:|---:|---:|",
    ]
    for label, key, peak in table:
        lines.append(f"| {label} | {r[key]['seconds']:.2f} | {rate(key):,.0f} | {peak} |")
    lines.append(
        f"| Salam's first full load in a fresh session | {sw['first_s']:.2f}"
        f" | {rows / sw['first_s']:,.0f} | - |"
    )
    lines.append(
        f"| Salam incremental after 1 % changed (warm) | {sw['incremental_s']:.2f} | - | - |"
    )
    lines += [
        "",
        f"Salam warm / connectorx = {warm / cx:.2f}x; Salam warm / binary COPY = {warm / cp:.2f}x; "
        f"incremental / full = {sw['incremental_s'] / sw['seconds']:.1%} "
        f"({sw['incremental_rows']:,.0f} rows read); session start {sw['session_s']:.1f}s; "
        f"read by {sw['extract']}; "
        f"COPY bytes/row {r['copy']['bytes'] / rows:.0f}.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, action="append", help="table size (repeatable)")
    parser.add_argument(
        "--extract",
        choices=["jdbc", "copy"],
        default="jdbc",
        help="Salam's source.extract (copy: the PostgreSQL COPY fast path)",
    )
    args = parser.parse_args()
    EXTRACT[0] = args.extract
    workdir = Path(tempfile.mkdtemp(prefix="salam-bench-"))
    workdir.chmod(0o755)
    try:
        print(f"Salam source.extract: {args.extract}")
        print(
            f"machine: {platform.node()} {os.cpu_count()} cores, {platform.python_version()}, "
            f"{datetime.now(UTC):%Y-%m-%d}\n"
        )
        for rows in args.rows or [5_000_000]:
            results = measure(rows, workdir)
            print(report(rows, results), flush=True)
            print(json.dumps(results), file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    _ = resource  # the peak RSS of children comes from os.wait4


if __name__ == "__main__":
    main()
