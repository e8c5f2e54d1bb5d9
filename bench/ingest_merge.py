"""Benchmark: an incremental run after 1 % of the rows changed, ``merge`` vs ``append``.

Usage: ``.venv/bin/python bench/ingest_merge.py --rows 5000000``

Reuses bench/ingest_full_load.py's set-up (PostgreSQL 15 here, the seeded usage table, the bench
project). In one warm Spark session, for each disposition: a full load into a fresh lake table,
then 1 % of the rows (``usage_id % 100 = 0``, spread over every file) get a new amount and cursor,
then the timed incremental run. Merge rewrites every lake file holding a changed key (here: all of
them); append only adds the changed versions. Prints a Markdown table for bench/results/ingest.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import ingest_full_load as setup

from tests.ingestion.job import pgserver


def job_for(root: Path, port: int, disposition: str) -> Path:
    path = setup.project(root, port, disposition)
    job = yaml.safe_load(path.read_text())
    job["load"]["write_disposition"] = disposition
    path.write_text(yaml.safe_dump(job))
    return path


def change_one_percent(port: int) -> None:
    import psycopg

    with psycopg.connect(
        host="127.0.0.1", port=port, user="postgres", password=setup.PASSWORD, autocommit=True
    ) as conn:
        conn.execute(
            "UPDATE usage_records SET charge = charge + 1, updated_at = now()"
            " WHERE usage_id % 100 = 0"
        )


def measure(config: Path, port: int, spark: object) -> dict[str, float | int | None]:
    from ingestion.config import loader
    from ingestion.job.runner import RunOptions, run

    environment, job = loader.load_job(config)
    started = time.perf_counter()
    run(environment, job, RunOptions(run_id="full"), spark=spark)
    full_s = time.perf_counter() - started
    change_one_percent(port)
    started = time.perf_counter()
    inc = run(environment, job, RunOptions(run_id="inc"), spark=spark).tables[0]
    return {
        "full_s": full_s,
        "incremental_s": time.perf_counter() - started,
        "rows_read": inc.rows_read,
        "rows_merged": inc.rows_merged,
        "rows_written": inc.rows_written,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="salam-bench-merge-"))
    workdir.chmod(0o755)
    pg_dir = workdir / "pg"
    pg_dir.mkdir()
    port = pgserver.start(pg_dir, setup.PASSWORD, "-c shared_buffers=512MB")
    os.environ["BENCH_PG_PASSWORD"] = setup.PASSWORD
    try:
        results = run_all(workdir, port, args.rows)
    finally:
        pgserver.stop(pg_dir)
    print(report(args.rows, results))


def run_all(workdir: Path, port: int, rows: int) -> dict[str, dict[str, float | int | None]]:
    from ingestion.job import session

    seeded = setup.seed(port, rows)
    print(json.dumps({"seed_s": seeded}), flush=True)
    results = {}
    spark = None
    for disposition in ("append", "merge"):
        os.chdir(workdir)
        config = job_for(workdir / "project", port, disposition)
        if spark is None:
            from ingestion.config import loader

            environment, job = loader.load_job(config)
            spark = session.get(environment.settings, job.data, "salam-bench-merge")
        results[disposition] = measure(config, port, spark)
        print(json.dumps({disposition: results[disposition]}), flush=True)
    return results


def report(rows: int, r: dict[str, dict[str, float | int | None]]) -> str:
    ratio = float(r["merge"]["incremental_s"] or 0) / float(r["append"]["incremental_s"] or 1)
    lines = [
        f"{datetime.now(UTC):%Y-%m-%d}, {platform.node()}, {os.cpu_count()} cores (shared), "
        f"{rows:,} rows, 1 % changed",
        "",
        "| disposition | full load s | incremental s | rows read | rows merged | rows written |",
        "|---|---|---|---|---|---|",
    ]
    for name, m in r.items():
        lines.append(
            f"| {name} | {m['full_s']:.1f} | {m['incremental_s']:.1f} | {m['rows_read']} "
            f"| {m['rows_merged']} | {m['rows_written']} |"
        )
    lines.append(f"\nmerge / append (incremental run): {ratio:.2f}x")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
