"""Benchmark: a scheduled incremental run, cold (its own JVM) vs a warm engine (Spark Connect).

Usage: ``.venv/bin/python bench/ingest_warm.py [--rows 5000000] [--rounds 2]
[--disposition merge|append] [--completeness-every N]``

On a PostgreSQL 15 started here (the helpers of ``bench/ingest_full_load.py``: ``seed``,
``project``), one table of ``--rows`` usage records, two projects reading it into their own lakes:
``cold`` (no ``spark.connect``: each run starts a local session) and ``warm``
(``spark.connect`` names the server ``ingest engine --env bench`` started here, warmed up before
the clock starts). Each project loads the table in full once; then, per round, 1 % of the rows
change (``UPDATE … WHERE usage_id % 100 = <round>``) and each project runs incrementally. Every
figure is ``python -m ingestion --config … --json`` from process start to its exit, after the
snapshot is committed; rows read and written come from the run's summary. Round 2 is the steady
state of an hourly schedule: its 1 h lookback holds the previous round's changes (round 1's holds
none, round 3's two rounds'). ``--completeness-every N`` sets ``load.completeness.every_runs``
(default 1, the product's: every run reconciles the counts below the window, one read of the
key and cursor columns of the whole table). Prints a Markdown table, the machine and the date.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

import ingest_full_load as full  # the bench directory is not a package

from tests.ingestion.job import pgserver

REPO = full.REPO
ENGINE_READY_TIMEOUT_S = 300


def timed_run(config: Path, root: Path) -> dict[str, Any]:
    """``python -m ingestion --config … --json``: wall seconds, rows read and written, engine."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "ingestion", "--config", str(config), "--json"],
        cwd=root,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO), "SPARK_LOCAL_IP": "127.0.0.1"},
        check=False,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"run failed ({done.returncode}): {done.stderr[-2000:]}")
    summary = json.loads(done.stdout)
    table = summary["tables"][0]
    return {
        "seconds": seconds,
        "run_s": summary["duration_s"],
        "rows_read": table.get("rows_read"),
        "rows_written": table.get("rows_written"),
        "engine": summary["engine"],
    }


def start_engine(root: Path, port: int) -> tuple[subprocess.Popen[str], float]:
    """``ingest engine --env bench --port PORT``; returns once it announced itself (warm)."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "ingestion", "engine", "--env", "bench", "--port", str(port)],
        cwd=root,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if "Spark Connect at" not in line:
        process.kill()
        raise RuntimeError(f"the engine did not start: {line!r}")
    return process, time.perf_counter() - started


def stop_engine(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=60)


def change(port: int, residue: int) -> None:
    import psycopg

    with psycopg.connect(
        host="127.0.0.1",
        port=port,
        user="postgres",
        password=full.PASSWORD,
        dbname="postgres",
        autocommit=True,
    ) as conn:
        conn.execute(
            "UPDATE usage_records SET charge = charge + 1, updated_at = now()"
            f" WHERE usage_id % 100 = {residue}"
        )


def warm_project(root: Path, port: int, engine_port: int) -> Path:
    config = full.project(root, port, "warm")
    path = root / "environments" / "bench" / "environment.yaml"
    settings = yaml.safe_load(path.read_text())
    settings["spark"]["connect"] = f"sc://127.0.0.1:{engine_port}"
    settings["spark"]["conf"]["spark.driver.memory"] = "2g"  # the cold job's driver_memory
    path.write_text(yaml.safe_dump(settings))
    return config


def with_load(config: Path, disposition: str, completeness_every: int) -> Path:
    """``config`` with ``load.write_disposition`` and ``load.completeness.every_runs`` set."""
    job = yaml.safe_load(config.read_text())
    job["load"]["write_disposition"] = disposition
    job["load"]["completeness"] = {"every_runs": completeness_every}
    config.write_text(yaml.safe_dump(job))
    return config


def measure(
    rows: int, rounds: int, workdir: Path, disposition: str, completeness_every: int
) -> dict[str, Any]:
    pg_dir = workdir / "pg"
    pg_dir.mkdir()
    port = pgserver.start(pg_dir, full.PASSWORD, "-c shared_buffers=512MB")
    os.environ["BENCH_PG_PASSWORD"] = full.PASSWORD
    engine = None
    try:
        results: dict[str, Any] = {"seed_s": full.seed(port, rows)}
        load = (disposition, completeness_every)
        cold = with_load(full.project(workdir / "cold", port, "cold"), *load)
        engine_port = pgserver.free_port()
        warm = with_load(warm_project(workdir / "warm", port, engine_port), *load)
        engine, results["engine_ready_s"] = start_engine(workdir / "warm", engine_port)
        results["full"] = {
            "cold": timed_run(cold, workdir / "cold"),
            "warm": timed_run(warm, workdir / "warm"),
        }
        results["incremental"] = []
        for residue in range(rounds):
            change(port, residue)
            results["incremental"].append(
                {
                    "cold": timed_run(cold, workdir / "cold"),
                    "warm": timed_run(warm, workdir / "warm"),
                }
            )
        return results
    finally:
        if engine is not None:
            stop_engine(engine)
        pgserver.stop(pg_dir)


def report(rows: int, r: dict[str, Any], disposition: str, completeness_every: int) -> str:
    lines = [
        f"### {rows:,} rows, PostgreSQL 15 → Iceberg ({disposition}, completeness every "
        f"{completeness_every} run(s)), `python -m ingestion --config`",
        "",
        "| run | engine | seconds (process start → committed) | in-run s | rows read "
        "| rows written |",
        "|---|---|---:|---:|---:|---:|",
    ]

    def row(label: str, kind: str, m: dict[str, Any]) -> str:
        return (
            f"| {label} | {kind} ({m['engine']}) | {m['seconds']:.2f} | {m['run_s']:.2f} "
            f"| {m['rows_read']:,} | {m['rows_written']:,} |"
        )

    for kind in ("cold", "warm"):
        lines.append(row("full load", kind, r["full"][kind]))
    for index, found in enumerate(r["incremental"]):
        for kind in ("cold", "warm"):
            lines.append(row(f"incremental, 1 % changed (round {index + 1})", kind, found[kind]))
    lines += [
        "",
        f"Seed {r['seed_s']:.1f}s; engine start to warm (port open + warm-up query) "
        f"{r['engine_ready_s']:.1f}s, paid once per environment, not per run.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000_000, help="table size")
    parser.add_argument("--rounds", type=int, default=2, help="incremental runs (1 % each)")
    parser.add_argument("--disposition", choices=("merge", "append"), default="merge")
    parser.add_argument(
        "--completeness-every", type=int, default=1, help="load.completeness.every_runs"
    )
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="salam-bench-warm-"))
    workdir.chmod(0o755)
    try:
        print(
            f"machine: {platform.node()} {os.cpu_count()} cores, {platform.python_version()}, "
            f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n"
        )
        every = args.completeness_every
        results = measure(args.rows, args.rounds, workdir, args.disposition, every)
        print(report(args.rows, results, args.disposition, every), flush=True)
        print(json.dumps(results), file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
