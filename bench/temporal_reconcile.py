"""Benchmark the Temporal backend on 1,000 schedules against the raw SDK doing the same work.

Starts a local dev server (in-memory store), then measures, each beside its raw-SDK baseline
run in the same process on a twin namespace: (a) the first apply (1,000 creates; raw =
``create_schedule`` under ``asyncio.gather`` at the same concurrency), (b) a dry-run when in sync
(read + diff; raw = list + describe all), (c) a dry-run with 10 % changed. Prints a Markdown table.

    .venv/bin/python bench/temporal_reconcile.py [--schedules 1000] [--concurrency 32]
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from temporalio.client import Client

from ingestion.config.loader import load_environment
from ingestion.plan import environment as plans
from reconciler import diff
from reconciler.backends.temporal import Options, TemporalBackend, spec
from reconciler.model import DesiredResource
from tests.reconciler.backends.temporal.server import (
    TemporalServer,
    write_environment,
    write_job,
)


def template_plan(root: Path, address: str) -> dict[str, Any]:
    write_environment(root, "dev", "bench-salam")
    write_job(root, "dev", "template")
    environment = load_environment(root, "dev", [f"temporal.address={address}"])
    plan = plans.render_all(environment, with_git=False)["template"]
    (root / "environments/dev/jobs/template.json").unlink()
    return plan


def make_plans(
    template: dict[str, Any], count: int, namespace: str, changed: int = 0
) -> list[dict[str, Any]]:
    made = []
    for i in range(count):
        plan = copy.deepcopy(template)
        plan["job"], plan["schedule_id"] = f"job{i:04d}", f"salam-dev-job{i:04d}"
        plan["temporal"]["namespace"] = namespace
        plan["schedule"]["cron"] = f"{i % 60} {(i + (1 if i < changed else 0)) % 24} * * *"
        made.append(plan)
    return made


def timed(work: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = work()
    return time.perf_counter() - start, result


async def raw_creates(
    address: str, namespace: str, desired: list[DesiredResource], concurrency: int
) -> None:
    client = await Client.connect(address, namespace=namespace)
    gate = asyncio.Semaphore(concurrency)

    async def one(resource: DesiredResource) -> None:
        async with gate:
            await client.create_schedule(resource.key.name, spec.to_schedule(resource.spec))

    await asyncio.gather(*(one(r) for r in desired))


async def raw_read(address: str, namespace: str, concurrency: int) -> int:
    client = await Client.connect(address, namespace=namespace)
    ids = [entry.id async for entry in await client.list_schedules()]
    gate = asyncio.Semaphore(concurrency)

    async def one(schedule_id: str) -> Any:
        async with gate:
            return await client.get_schedule_handle(schedule_id).describe()

    return len(await asyncio.gather(*(one(i) for i in ids)))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--schedules", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server = TemporalServer(Path(tmp))
        server.start()
        try:
            rows = run(server, Path(tmp), args.schedules, args.concurrency)
        finally:
            server.stop()
    print(
        f"Machine: {platform.machine()}, Python {platform.python_version()}; "
        f"date {date.today()}; {args.schedules} schedules, concurrency {args.concurrency}\n"
    )
    print("| case | salam (s) | raw SDK (s) | ratio |\n|---|---|---|---|")
    for name, ours, raw in rows:
        print(f"| {name} | {ours:.2f} | {raw:.2f} | {ours / raw:.2f}x |")


def run(
    server: TemporalServer, root: Path, count: int, concurrency: int
) -> list[tuple[str, float, float]]:
    for namespace in ("bench-salam", "bench-raw"):
        server.create_namespace(namespace)
    template = template_plan(root, server.address)
    environment = load_environment(root, "dev", [f"temporal.address={server.address}"])
    options = Options(concurrency=concurrency)
    rows = []
    with TemporalBackend(environment, options) as backend:
        desired = [backend.render(p) for p in make_plans(template, count, "bench-salam")]
        raw_desired = [DesiredResource(d.key, d.job, d.spec, d.meta) for d in desired]
        live = backend.read()
        change_set = diff.compute("dev", desired, live)
        ours, results = timed(lambda: backend.apply(change_set.pending()))
        assert all(r.ok for r in results)
        raw, _ = timed(
            lambda: asyncio.run(raw_creates(server.address, "bench-raw", raw_desired, concurrency))
        )
        rows.append(("(a) first apply: creates", ours, raw))

        ours, change_set = timed(lambda: diff.compute("dev", desired, backend.read()))
        raw, _ = timed(lambda: asyncio.run(raw_read(server.address, "bench-raw", concurrency)))
        assert change_set.empty, "in-sync dry-run found changes"
        rows.append(("(b) dry-run, in sync (read + diff)", ours, raw))

    with TemporalBackend(environment, options) as backend:
        changed = [
            backend.render(p) for p in make_plans(template, count, "bench-salam", count // 10)
        ]
        ours, change_set = timed(lambda: diff.compute("dev", changed, backend.read()))
        raw, _ = timed(lambda: asyncio.run(raw_read(server.address, "bench-raw", concurrency)))
        assert len(change_set.pending()) == count // 10
        rows.append(("(c) dry-run, 10 % changed", ours, raw))
    return rows


if __name__ == "__main__":
    main()
