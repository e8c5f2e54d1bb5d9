"""Count Kubernetes API calls per reconcile: reads must stay constant, writes must equal changes.

Runs the real backend and client against the extended kmock emulator (tests/…/emulator.py) on
loopback and counts the requests the server saw. Writes bench/results/kubernetes.md.
Run: ``.venv/bin/python -m bench.kubernetes_calls`` from the project root.
"""

from __future__ import annotations

import collections
import datetime
import platform
import sys
import tempfile
import time
from pathlib import Path

from ingestion.config.loader import load_environment
from tests.conftest import ROOT
from tests.reconciler.backends.kubernetes.conftest import clone_plan, kubernetes_plans, reconcile
from tests.reconciler.backends.kubernetes.emulator import EmulatorServer

RESULTS = ROOT / "bench" / "results" / "kubernetes.md"


def counted(server: EmulatorServer) -> dict[str, int]:
    methods = collections.Counter(str(r.method.value) for r in server.requests())
    server.emulator._requests.clear()
    return dict(methods)


def scenario(jobs: int, changes: int) -> dict[str, object]:
    server = EmulatorServer().start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            kubeconfig = Path(tmp) / "kubeconfig"
            kubeconfig.write_text(server.kubeconfig(), encoding="utf-8")
            env = load_environment(
                ROOT, "dev", [f"kubernetes.kubeconfig={kubeconfig}", "kubernetes.context=kmock"]
            )
            template = kubernetes_plans(env)[0]
            plans = [clone_plan(template, f"job_{i:03d}") for i in range(jobs)]
            assert reconcile(env, plans).ok
            first = counted(server)
            started = time.perf_counter()
            in_sync = reconcile(env, plans)
            seconds = time.perf_counter() - started
            assert in_sync.changes.empty
            sync_calls = counted(server)
            changed = [
                clone_plan(p, p["job"], cron="7 * * * *") if i < changes else p
                for i, p in enumerate(plans)
            ]
            run = reconcile(env, changed)
            assert run.ok and len(run.changes.pending()) == changes
            change_calls = counted(server)
    finally:
        server.stop()
    return {
        "jobs": jobs,
        "changes": changes,
        "create": first,
        "sync": sync_calls,
        "change": change_calls,
        "sync_seconds": seconds,
    }


def table(rows: list[dict[str, object]]) -> str:
    lines = [
        "| CronJobs | first apply (all created) | in sync: calls | N changed | "
        "N changes: calls | in-sync reconcile wall time |",
        "|---:|---|---|---:|---|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {row['jobs']} | {fmt(row['create'])} | {fmt(row['sync'])} | "
            f"{row['changes']} | {fmt(row['change'])} | {row['sync_seconds']:.3f} s |"
        )
    return "\n".join(lines)


def fmt(calls: object) -> str:
    assert isinstance(calls, dict)
    return ", ".join(f"{calls[m]} {m}" for m in sorted(calls)) or "0"


def main() -> None:
    rows = [scenario(jobs, changes) for jobs, changes in ((10, 1), (50, 5), (100, 10), (100, 0))]
    text = (
        "# Kubernetes backend: API calls per reconcile\n\n"
        f"Machine: {platform.machine()}, {platform.system()} {platform.release()}, "
        f"Python {sys.version.split()[0]}; date {datetime.date.today().isoformat()}.\n"
        "Server: kmock's emulator extended in tests/reconciler/backends/kubernetes/emulator.py,"
        " on 127.0.0.1, through the official `kubernetes` client. Counted server-side.\n\n"
        + table(rows)
        + "\n\n"
        "- In sync: exactly one `GET` (a labelled list) per namespace, whatever the number of"
        " CronJobs.\n"
        "- N changes: N `PUT`s (replace with the read resourceVersion) plus the same single list.\n"
        "- First apply: one extra unlabelled list per namespace (only when a desired CronJob is"
        " missing from the labelled list: it finds foreign objects on a desired name), then one"
        " `POST` per CronJob.\n"
        "- Wall time is the emulator's (O(objects) per request), not a real API server's.\n"
        "\nReproduce: `.venv/bin/python -m bench.kubernetes_calls`.\n"
    )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
