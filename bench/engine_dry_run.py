"""Benchmark: a no-change ``--dry-run`` of 1,000 jobs, as a ratio to merely parsing their YAML.

Measured in one run: (a) ``yaml.safe_load`` of the 1,000 job files + environment.yaml,
(b) a dry-run session against an in-sync in-memory backend, (c) a dry-run session against an
in-sync crontab file target (the real backend). Target: (b) and (c) at most 4x (a).
Usage: .venv/bin/python bench/engine_dry_run.py [--jobs 1000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import yaml

from ingestion.config.modes import Mode
from reconciler import engine
from reconciler.backends import memory, registry
from tests.conftest import clone_job

ROOT = Path(__file__).resolve().parent.parent


def make_project(directory: Path, jobs: int) -> Path:
    env = directory / "environments" / "dev"
    (env / "jobs").mkdir(parents=True)
    shutil.copy(ROOT / "environments/dev/environment.yaml", env / "environment.yaml")
    template = (ROOT / "environments/dev/jobs/subscriptions.yaml").read_text()
    for index in range(jobs):
        name = f"subscriptions_{index:04d}"
        text = clone_job(template, "subscriptions", name)
        text = text.replace('expression: "0 * * * *"', f'expression: "{index % 60} * * * *"')
        (env / "jobs" / f"{name}.yaml").write_text(text)
    return directory


def parse_only(root: Path) -> None:
    for path in sorted((root / "environments/dev").rglob("*.yaml")):
        yaml.safe_load(path.read_text())


def dry_run(root: Path) -> None:
    dry_run_backend(root, ("memory",))


def best(action: Callable[[], None], repeat: int) -> float:
    timings = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        timings.append(time.perf_counter() - start)
    return min(timings) if repeat < 3 else statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = make_project(Path(tmp), args.jobs)
        parse = best(lambda: parse_only(root), args.repeat)

        registry.load_all()
        options = engine.ReconcileOptions(root=root, env="dev", backends=("crontab",))
        with engine.prepare(options, for_apply=True) as s:
            engine.apply(s)
        real = best(lambda: dry_run_backend(root, ("crontab",)), args.repeat)

        store = memory.Store()
        memory.install(store)
        saved_route = engine.default_route
        engine.default_route = lambda: dict.fromkeys(map(str, Mode), "memory")
        in_memory_only = engine.ReconcileOptions(root=root, env="dev", backends=("memory",))
        with engine.prepare(in_memory_only, for_apply=True) as s:
            engine.apply(s)
        in_memory = best(lambda: dry_run(root), args.repeat)
        engine.default_route = saved_route
    print(f"jobs={args.jobs} parse_yaml={parse:.3f}s")
    print(f"dry_run_memory={in_memory:.3f}s ratio={in_memory / parse:.2f}x")
    print(f"dry_run_crontab={real:.3f}s ratio={real / parse:.2f}x")


def dry_run_backend(root: Path, backends: tuple[str, ...]) -> None:
    with engine.prepare(
        engine.ReconcileOptions(root=root, env="dev", backends=backends)
    ) as current:
        assert current.change_set.empty, "benchmark expects an in-sync environment"


if __name__ == "__main__":
    main()
