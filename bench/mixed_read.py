"""Benchmark: a dry-run of one environment spread over five backends reads them at once.

Issue 15's mixed environment: ``--jobs`` jobs (default 1,000), the seven dev jobs cloned in turn,
so they spread over crontab (a file target), export (informatica and external_scheduler), the
airflow DAGs folder, a real Temporal dev server and the Kubernetes emulator (kmock, on
loopback). The environment is applied once (in sync), then, ``--repeat`` times, inside one
read-only session: each backend's read alone, one after another (their sum is what reading
one backend after another cost), then the engine's read of all of them (concurrent). Target:
the engine's read ≤ the slowest backend's read + 20 %. The whole dry-run (load, policies,
render, read, diff) is timed too. Prints Markdown with the machine and the date.

    .venv/bin/python bench/mixed_read.py [--jobs 1000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from reconciler import engine
from tests.conftest import clone_job
from tests.reconciler.backends.kubernetes.emulator import EmulatorServer
from tests.reconciler.backends.temporal.server import TemporalServer

ROOT = Path(__file__).resolve().parent.parent
DEV = ROOT / "environments" / "dev"
# what makes each clone's schedule its own: an explicit id or DAG id is suffixed like the name
OWN_IDS = re.compile(r"^(\s+(?:workflow_id|dag_id|schedule_id):\s*)(\S+)$", re.M)


def make_project(directory: Path, jobs: int) -> Path:
    """dev's environment with ``jobs`` clones of its seven jobs, in turn."""
    env = directory / "environments" / "dev"
    (env / "jobs").mkdir(parents=True)
    for name in ("environment.yaml", "spark.lock"):
        shutil.copy(DEV / name, env / name)
    shutil.copytree(ROOT / "policies", directory / "policies")
    templates = sorted((DEV / "jobs").glob("*.yaml"))
    for index in range(jobs):
        template = templates[index % len(templates)]
        clone = f"{template.stem}_{index:05d}"
        text = clone_job(template.read_text(), template.stem, clone)
        text = OWN_IDS.sub(rf"\g<1>\g<2>_{index:05d}", text)
        (env / "jobs" / f"{clone}.yaml").write_text(text)
    return directory


def timed(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def measure(options: engine.ReconcileOptions, repeat: int) -> dict[str, list[float]]:
    """Per round: each backend's read alone, their sum, the engine's read, the whole dry-run."""
    found: dict[str, list[float]] = {}
    for _ in range(repeat):
        with engine.prepare(options) as current:
            assert current.change_set.in_sync, "the environment should be in sync"
            alone = {name: timed(backend.read) for name, backend in current.backends.items()}
            together = timed(lambda: engine._read(current.backends, current.selection))
        whole = timed(lambda: _dry_run(options))
        for name, seconds in alone.items():
            found.setdefault(name, []).append(seconds)
        found.setdefault("one after another (sum)", []).append(sum(alone.values()))
        found.setdefault("slowest alone", []).append(max(alone.values()))
        found.setdefault("engine read (concurrent)", []).append(together)
        found.setdefault("whole dry-run", []).append(whole)
    return found


def _dry_run(options: engine.ReconcileOptions) -> None:
    with engine.prepare(options) as current:
        assert current.change_set.in_sync


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        root = make_project(directory / "project", args.jobs)
        (directory / "temporal").mkdir()
        server = TemporalServer(directory / "temporal")
        server.start()
        kubernetes = EmulatorServer().start()
        try:
            server.create_namespace("ingestion-dev")
            kubeconfig = directory / "kubeconfig"
            kubeconfig.write_text(kubernetes.kubeconfig(), encoding="utf-8")
            overrides = (
                f"temporal.address={server.address}",
                "kubernetes.disabled=null",
                f"kubernetes.kubeconfig={kubeconfig}",
                "kubernetes.context=kmock",
            )
            options = engine.ReconcileOptions(
                root=root, env="dev", overrides=overrides, lock_timeout=60
            )
            started = time.perf_counter()
            with engine.prepare(options, for_apply=True) as current:
                outcome = engine.apply(current)
            assert outcome.status.value == "applied", outcome
            applied = time.perf_counter() - started
            time.sleep(5)  # let the Temporal server finish the work the creates left it
            found = measure(options, args.repeat)
        finally:
            kubernetes.stop()
            server.stop()
    report(args, applied, found)


def report(args: argparse.Namespace, applied: float, found: dict[str, list[float]]) -> None:
    load = os.getloadavg() if hasattr(os, "getloadavg") else ()
    print(
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}; {date.today()}; {args.jobs} jobs over five backends; "
        f"first apply {applied:.1f} s; median of {args.repeat}; load average "
        f"{' '.join(f'{x:.1f}' for x in load)} after\n"
    )
    print("| read | seconds (median) | range |\n|---|---:|---|")
    for name, seconds in found.items():
        spread = f"{min(seconds):.3f} to {max(seconds):.3f}"
        print(f"| {name} | {statistics.median(seconds):.3f} | {spread} |")
    ratio = statistics.median(
        t / s
        for t, s in zip(found["engine read (concurrent)"], found["slowest alone"], strict=True)
    )
    total = statistics.median(
        t / s
        for t, s in zip(
            found["engine read (concurrent)"], found["one after another (sum)"], strict=True
        )
    )
    print(
        f"\nengine read / slowest backend alone: {ratio:.2f}x (target ≤ 1.20x); "
        f"/ one after another: {total:.2f}x"
    )


if __name__ == "__main__":
    main()
