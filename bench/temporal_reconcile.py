"""Benchmark the Temporal backend on 1,000 schedules against the raw SDK doing the same work.

Starts a local dev server (SQLite file, WAL, ``synchronous=off``), then measures, each beside
its raw-SDK baseline run in the same process on a twin namespace: (a) the first apply (1,000
creates; raw = ``create_schedule`` under ``asyncio.gather`` at the same concurrency), (b) a
dry-run when in sync (read + diff; raw = list + describe all), (c) a dry-run with 10 % changed.

Every schedule the server has just created keeps it busy for a while (≈ 15 s of one core per
1,000), so before each timed read the bench waits until the server is idle, and the reads are
repeated ``--rounds`` times with Salam and the raw SDK taking turns going first; the table
shows the median and the range. Prints a Markdown table and the load average (Linux only).

    .venv/bin/python bench/temporal_reconcile.py [--schedules 1000] [--concurrency 32] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from importlib import metadata
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from temporalio.client import Client

from ingestion.config.loader import load_environment
from ingestion.plan import environment as plans
from reconciler import diff
from reconciler.backends.temporal import TemporalBackend, TemporalOptions, spec
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


IDLE_SHARE = 0.05  # the server counts as idle below 5 % of one core
SETTLE_SECONDS = 180

Row = tuple[str, list[float], list[float]]


def timed(work: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = work()
    return time.perf_counter() - start, result


def server_cpu_seconds(pid: int) -> float:
    """User + system CPU the server process has used so far (from ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def settle(server: TemporalServer, window: float = 2.0) -> float:
    """Wait until the server is idle (background work on new schedules done); seconds waited."""
    assert server.process is not None
    start = time.perf_counter()
    while time.perf_counter() - start < SETTLE_SECONDS:
        before = server_cpu_seconds(server.process.pid)
        time.sleep(window)
        if server_cpu_seconds(server.process.pid) - before < IDLE_SHARE * window:
            break
    return time.perf_counter() - start


def load_average() -> str:
    return " / ".join(f"{v:.2f}" for v in os.getloadavg())


def taking_turns(
    server: TemporalServer, rounds: int, ours: Callable[[], Any], raw: Callable[[], Any]
) -> tuple[list[float], list[float]]:
    """``rounds`` timings of each, after the server settles, alternating which goes first."""
    timings: tuple[list[float], list[float]] = ([], [])
    for index in range(rounds):
        for side in (0, 1) if index % 2 == 0 else (1, 0):
            settle(server)
            timings[side].append(timed(ours if side == 0 else raw)[0])
    return timings


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
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    loads = [load_average()]
    with tempfile.TemporaryDirectory() as tmp:
        server = TemporalServer(Path(tmp))
        server.start()
        try:
            rows = run(server, Path(tmp), args)
        finally:
            server.stop()
    loads.append(load_average())
    report(args, rows, loads)


def report(args: argparse.Namespace, rows: list[Row], loads: list[str]) -> None:
    """The machine, the load average (1/5/15 min) before and after, and the table."""
    print(
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}, temporalio {metadata.version('temporalio')}; "
        f"date {date.today()}; {args.schedules} schedules, concurrency {args.concurrency}, "
        f"{args.rounds} rounds; load average {loads[0]} before, {loads[1]} after\n"
    )
    print("| case | salam (s) | raw SDK (s) | ratio |\n|---|---|---|---|")
    for name, ours, raw in rows:
        mine, theirs = statistics.median(ours), statistics.median(raw)
        print(
            f"| {name} | {mine:.2f} ({min(ours):.2f} to {max(ours):.2f}) "
            f"| {theirs:.2f} ({min(raw):.2f} to {max(raw):.2f}) | {mine / theirs:.2f}x |"
        )


def run(server: TemporalServer, root: Path, args: argparse.Namespace) -> list[Row]:
    for namespace in ("bench-salam", "bench-raw"):
        server.create_namespace(namespace)
    template = template_plan(root, server.address)
    environment = load_environment(root, "dev", [f"temporal.address={server.address}"])
    options = TemporalOptions(concurrency=args.concurrency)
    count = args.schedules
    with TemporalBackend(environment, options) as backend:
        desired = [backend.render(p) for p in make_plans(template, count, "bench-salam")]
        rows = [first_apply(server, backend, desired, args.concurrency)]
        in_sync = ("(b) dry-run, in sync (read + diff)", 0)
        rows.append(dry_runs(server, backend, desired, args, in_sync))
    with TemporalBackend(environment, options) as backend:
        changed = [
            backend.render(p) for p in make_plans(template, count, "bench-salam", count // 10)
        ]
        rows.append(
            dry_runs(server, backend, changed, args, ("(c) dry-run, 10 % changed", count // 10))
        )
    return rows


def first_apply(
    server: TemporalServer,
    backend: TemporalBackend,
    desired: list[DesiredResource],
    concurrency: int,
) -> Row:
    """Salam's first apply (all creates), then the raw SDK creating the same in its namespace."""
    raw_desired = [DesiredResource(d.key, d.job, d.spec, d.meta) for d in desired]
    change_set = diff.compute("dev", desired, backend.read())
    ours, results = timed(lambda: backend.apply(change_set.pending()))
    assert all(r.ok for r in results)
    raw, _ = timed(
        lambda: asyncio.run(raw_creates(server.address, "bench-raw", raw_desired, concurrency))
    )
    return ("(a) first apply: creates", [ours], [raw])


def dry_runs(
    server: TemporalServer,
    backend: TemporalBackend,
    desired: list[DesiredResource],
    args: argparse.Namespace,
    case: tuple[str, int],
) -> Row:
    """Read + diff against raw list + describe all, taking turns; ``case`` = (name, changes)."""
    name, pending = case

    def ours() -> None:
        found = diff.compute("dev", desired, backend.read())
        assert len(found.pending()) == pending, f"{name}: {len(found.pending())} changes"

    def raw() -> None:
        asyncio.run(raw_read(server.address, "bench-raw", args.concurrency))

    return (name, *taking_turns(server, args.rounds, ours, raw))


if __name__ == "__main__":
    main()
