"""Benchmark: a 10,000-line crontab with 1,000 managed entries reconciles in one read, one write.

Builds a crontab of 9,000 unmanaged lines (comments, ``MAILTO=``/``PATH=`` lines, entries with
tabs, ``@reboot``, another tool's fenced block, another environment's salam block) around this
environment's block of 1,000 entries, then for the file target and (as root, with Debian's
``crontab`` installed) a real user's crontab:

- in sync: ``read`` + diff, counting reads and writes (expect 1 read, 0 writes);
- drifted: 100 hand-edited entries, 10 jobs added and 10 removed in config: ``read`` + diff +
  ``apply`` of the whole change set (expect 2 reads — the engine's read and the apply's fresh
  read of the lines outside the block — and exactly 1 write), then a check that the
  unmanaged lines are byte-identical and a second diff is empty.

Usage: ``.venv/bin/python bench/crontab_reconcile.py [--repeat N]``; prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import secrets
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ingestion.config.loader import Environment
from reconciler import diff
from reconciler.backends.crontab import CrontabBackend, block
from reconciler.backends.crontab.target import Target

JOBS = 1000
LINES = 10_000
EDITED = 100
CHURN = 10


def plan(job: int, minute: int = 0) -> dict[str, Any]:
    name = f"job_{job:04d}"
    return {
        "job": name,
        "environment": "dev",
        "mode": "plain_cron",
        "execution_command": [
            "spark-submit",
            "--master",
            "local[*]",
            "--name",
            f"salam-dev-{name}",
            "app.py",
            "run",
            "--config",
            f"environments/dev/jobs/{name}.yaml",
        ],
        "schedule": {"cron": f"{(job + minute) % 60} {job % 24} * * *", "timezone": "UTC"},
        "cron": {"log_file": f"/var/log/salam/{name}.log"},
        "bookkeeping": {"digest": f"{job:064x}", "git_revision": "e50c42a4b8b3e6bbbc7f"},
    }


def unmanaged(count: int) -> list[str]:
    head = [
        "MAILTO=ops@example.com\n",
        "PATH=/usr/local/bin:/usr/bin:/bin\n",
        "\n",
        "@reboot /usr/local/bin/warm-cache\n",
        "# BEGIN ANSIBLE MANAGED BLOCK\n",
        "0 2 * * * /usr/bin/ansible-pull\n",
        "# END ANSIBLE MANAGED BLOCK\n",
        "# BEGIN salam env=uat (managed by salam; edits inside are overwritten)\n",
        "# salam job=orders digest=aaaaaaaaaaaa revision=-\n",
        "30 * * * * cd /srv/uat && run-orders\n",
        "# END salam env=uat\n",
    ]
    body = [
        f"{i % 60} {i % 24} * * *\t/opt/tools/task-{i} --flag\n" if i % 3 else f"# comment {i}\n"
        for i in range(count - len(head))
    ]
    return head + body


def build_text(backend: CrontabBackend, plans: list[dict[str, Any]]) -> str:
    items = [
        block.Item(d.key.name, d.job, dict(d.spec), dict(d.meta))
        for d in (backend.render(p) for p in plans)
    ]
    lines = block.render_items("dev", items, "UTC", None)
    outside = unmanaged(LINES - len(lines))
    middle = len(outside) // 2
    return "".join(outside[:middle] + lines + outside[middle:])


def outside_of(text: str) -> str:
    return re.sub(r"(?ms)^# BEGIN salam env=dev .*?^# END salam env=dev\n", "", text, count=1)


def hand_edit(text: str) -> str:
    for job in range(0, EDITED * 10, 10):
        name = f"job_{job:04d}"
        text = re.sub(rf"(# salam job={name} [^\n]*\n)\S+", r"\g<1>59", text, count=1)
    return text


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    value = action()
    return time.perf_counter() - start, value


def run_once(
    backend: CrontabBackend, install: Callable[[str], None], plans: list[dict[str, Any]]
) -> dict[str, Any]:
    target: Target = backend.target
    text = build_text(backend, plans)
    install(text)
    target.reads = target.writes = 0
    render_s, desired = timed(lambda: [backend.render(p) for p in plans])
    read_s, live = timed(backend.read)
    diff_s, changes = timed(lambda: diff.compute("dev", desired, live))
    assert changes.empty and len(live) == JOBS, (len(live), len(changes.pending()))
    in_sync = (target.reads, target.writes)
    install(hand_edit(text))
    new_plans = plans[CHURN:] + [plan(JOBS + i) for i in range(CHURN)]
    target.reads = target.writes = 0
    start = time.perf_counter()
    desired = [backend.render(p) for p in new_plans]
    changes = diff.compute("dev", desired, backend.read())
    pending = changes.pending()
    apply_s, results = timed(lambda: backend.apply(pending))
    total_s = time.perf_counter() - start
    counts = (target.reads, target.writes)
    assert all(r.ok for r in results), results[0].error
    after = target.read()
    assert outside_of(after) == outside_of(text), "unmanaged lines changed"
    assert diff.compute("dev", desired, backend.read()).empty
    return {
        "render": render_s,
        "read": read_s,
        "diff": diff_s,
        "in_sync": in_sync,
        "apply": apply_s,
        "total": total_s,
        "drift": counts,
        "pending": len(pending),
        "lines": len(after.splitlines()),
    }


@contextmanager
def file_backend() -> Iterator[tuple[CrontabBackend, Callable[[str], None]]]:
    with tempfile.TemporaryDirectory() as root:
        settings = {
            "workdir": ".",
            "crontab": {
                "target": {"file": "salam-dev.cron"},
                "host_timezone": "UTC",
                "lock_dir": "locks",
            },
        }
        backend = CrontabBackend(Environment("dev", Path(root), settings, ()))
        path = Path(root) / "salam-dev.cron"

        def install(text: str) -> None:
            path.write_bytes(block.encode(text))

        yield backend, install


@contextmanager
def user_backend() -> Iterator[tuple[CrontabBackend, Callable[[str], None]]]:
    user = f"salambench{secrets.token_hex(3)}"
    subprocess.run(["useradd", "--no-create-home", user], check=True)
    try:
        with tempfile.TemporaryDirectory() as root:
            settings = {
                "workdir": ".",
                "crontab": {"target": {"user": user}, "host_timezone": "UTC", "lock_dir": "locks"},
            }
            backend = CrontabBackend(Environment("dev", Path(root), settings, ()))

            def install(text: str) -> None:
                subprocess.run(["crontab", "-u", user, "-"], input=block.encode(text), check=True)

            yield backend, install
    finally:
        subprocess.run(["crontab", "-u", user, "-r"], check=False, capture_output=True)
        subprocess.run(["userdel", user], check=False)


def measure(name: str, factory: Callable[[], Any], repeat: int) -> list[str]:
    runs = []
    for _ in range(repeat):
        with factory() as (backend, install):
            runs.append(run_once(backend, install, [plan(i) for i in range(JOBS)]))
    ms = {
        key: statistics.median(r[key] for r in runs) * 1000
        for key in ("render", "read", "diff", "apply", "total")
    }
    first = runs[0]
    return [
        f"| {name} | {first['lines']} | {ms['render']:.0f} | {ms['read']:.0f} | "
        f"{ms['diff']:.0f} | {first['in_sync'][0]} / {first['in_sync'][1]} | "
        f"{first['pending']} | {ms['apply']:.0f} | {ms['total']:.0f} | "
        f"{first['drift'][0]} / {first['drift'][1]} |"
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    repeat = parser.parse_args().repeat
    rows = measure("file", file_backend, repeat)
    if os.geteuid() == 0 and shutil.which("crontab"):
        rows += measure("user (crontab -u)", user_backend, repeat)
    print(
        f"{datetime.now(UTC):%Y-%m-%d}, {platform.node()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, median of {repeat} runs\n"
    )
    print(
        "| target | lines | render 1,000 ms | read ms | diff ms | in sync: reads / writes | "
        "changes | apply ms | drifted total ms | drifted: reads / writes |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
