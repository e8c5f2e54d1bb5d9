"""The README's main command, end to end on a throw-away clone of the project: it reconciles the
embedded dev environment into the local crontab file and a local Temporal server, runs one
triggered ingestion through the worker into the Iceberg lake, leaves the controller keeping dev
on its branch (a commit on main reaches the crontab without another command) and serving dev's
status, is safe to run again (nothing to change), and `dev-services.sh stop` leaves no process
behind."""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pyiceberg.catalog import load_catalog

from tests import openlineage
from tests.conftest import ROOT
from tests.scripts import project_copy


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "zombie" not in Path(f"/proc/{pid}/status").read_text()


@pytest.fixture
def copy(tmp_path: Path) -> Iterator[Path]:
    yield project_copy.cloned(project_copy.make(tmp_path))
    project_copy.stop_services(tmp_path)


def test_main_command_runs_the_whole_loop_and_is_safe_to_rerun(copy: Path) -> None:
    first = project_copy.run_main(copy)

    assert "Applied 3 change(s)" in first
    url = (copy / ".salam/services/controller.url").read_text().strip()
    assert f"Controller at {url}" in first
    with urllib.request.urlopen(f"{url}/status/dev", timeout=10) as response:
        status = json.load(response)
    head = project_copy.git(copy, "rev-parse", "HEAD")
    assert status["sync_state"] == "synced" and status["mode"] == "apply"
    assert status["branch_head"] == head and status["revision_applied"] == head
    assert f"Web UI at {url}/ (dev's schedules: {url}/env/dev)" in first
    with urllib.request.urlopen(f"{url}/env/dev", timeout=30) as response:
        page = response.read().decode()
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert "subscriptions" in page and "miniboss_bss" in page and "every hour" in page
    assert ": COMPLETED (exit 0" in first and "events: 1 COMPLETE, 1 START)" in first
    assert "bss_raw.customers: committed, 1000 row(s) written, watermark - ->" in first
    cron = (copy / ".salam/cron/salam-dev.cron").read_text()
    assert "# BEGIN salam env=dev" in cron and "# salam job=subscriptions" in cron
    address = (copy / ".salam/services/temporal.address").read_text().strip()
    listed = subprocess.run(
        [
            str(ROOT / ".venv/bin/temporal"),
            "schedule",
            "list",
            "--address",
            address,
            "--namespace",
            "ingestion-dev",
            "-o",
            "json",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    ids = {entry["scheduleId"] for entry in json.loads(listed)}
    assert {"miniboss_ingest", "salam-dev-usage_records"} <= ids
    catalog = load_catalog(
        "salam",
        type="sql",
        uri=f"sqlite:///{copy}/.salam/lake/catalog.db",
        warehouse=f"file://{copy}/.salam/lake/warehouse",
    )
    table = catalog.load_table("bss_raw.customers")
    assert table.current_snapshot() is not None
    assert table.scan().to_arrow().num_rows > 0

    assert _subscriptions_line(copy).startswith("30 * * * * ")  # hourly in Asia/Kolkata, on UTC
    committed = _commit_on_main(copy, '"0 * * * *"', '"45 * * * *"')
    _post(f"{url}/webhook/git")  # or wait for the interval (3m)
    status = _wait(f"{url}/status/dev", lambda s: s["revision_applied"] == committed)
    assert status["sync_state"] == "synced" and status["last_apply"]["outcome"] == "applied"
    assert _subscriptions_line(copy).startswith("15 * * * * ")  # applied, with no command run

    second = project_copy.run_main(copy)

    assert "No changes: environment 'dev' is in sync." in second
    assert ": COMPLETED" in second
    events = (copy / ".salam/events/dev.jsonl").read_text().splitlines()
    found = openlineage.validate_all(json.loads(line) for line in events)
    assert {k[-1] for k in openlineage.check_lifecycle(found).values()} == {"COMPLETE"}

    names = ("temporal", "worker", "controller")
    pids = [int((copy / f".salam/services/{name}.pid").read_text()) for name in names]
    subprocess.run(["bash", "scripts/dev-services.sh", "stop"], cwd=copy, check=True)
    assert not any(_alive(pid) for pid in pids)


def _commit_on_main(copy: Path, old: str, new: str) -> str:
    """Change subscriptions' schedule and commit it on main; the new head."""
    job = copy / "environments/dev/jobs/subscriptions.yaml"
    assert old in job.read_text()
    job.write_text(job.read_text().replace(old, new))
    project_copy.git(copy, "commit", "-qam", "subscriptions at :45")
    return project_copy.git(copy, "rev-parse", "HEAD")


def _subscriptions_line(copy: Path) -> str:
    lines = (copy / ".salam/cron/salam-dev.cron").read_text().splitlines()
    return next(x for x in lines if "subscriptions" in x and not x.startswith("#"))


def _post(url: str) -> None:
    request = urllib.request.Request(url, method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 202


def _wait(url: str, check: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """The status once ``check`` holds (bounded: 120 s)."""
    deadline = time.monotonic() + 120
    while True:
        with urllib.request.urlopen(url, timeout=10) as response:
            status: dict[str, Any] = json.load(response)
        if check(status) or time.monotonic() > deadline:
            assert check(status), f"not reached in 120 s: {status}"
            return status
        time.sleep(0.5)
