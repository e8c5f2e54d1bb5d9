"""``python -m tools.screenshots``: the README's pictures of the web UI, taken in headless
chromium (:mod:`tools.browser`) and written to ``docs/images/ui-*.png``.

It builds a throw-away project from dev's committed configs (a git repository, so pages show a
revision), starts an in-memory Temporal dev server on a free loopback port, applies dev to
crontab (file target), Temporal and export, moves one crontab entry by hand (so the pages show
drift), serves ``reconcile ui`` on it and opens the overview, the environment page and the
drifted job's page. Everything it starts is stopped by process id; the project is removed.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tools import browser

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
IMAGES = ROOT / "docs" / "images"
PAGES = {"ui-overview.png": "/", "ui-environment.png": "/env/dev"}
PAGES["ui-job.png"] = "/env/dev/job/subscriptions"
BACKENDS = ("--backend", "crontab", "--backend", "temporal", "--backend", "export")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def project(directory: Path) -> Path:
    """dev's configs in a fresh git repository."""
    shutil.copytree(ROOT / "environments" / "dev", directory / "environments" / "dev")
    (directory / ".gitignore").write_text(".salam/\n")
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "dev"]):
        git = ["git", "-c", "user.name=Salam", "-c", "user.email=salam@example.com"]
        subprocess.run([*git, "-C", str(directory), *args], check=True)
    return directory


@contextmanager
def process(argv: list[str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as stream:
        started = subprocess.Popen(argv, stdout=stream, stderr=subprocess.STDOUT)
    try:
        yield started
    finally:
        started.terminate()
        started.wait(timeout=30)


def wait_for(check: list[str] | str, seconds: float = 60.0) -> None:
    """Until a command succeeds (a list) or a URL answers (a string)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if isinstance(check, str):
                urllib.request.urlopen(check, timeout=5).close()
                return
            if subprocess.run(check, check=False, capture_output=True).returncode == 0:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"timed out waiting for {check}")


def reconcile(root: Path, address: str, *args: str) -> None:
    overrides = ["--set", f"temporal.address={address}"]
    command = [str(BIN / "reconcile"), *args, "--root", str(root), *BACKENDS, *overrides]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)


def take(url: str) -> None:
    IMAGES.mkdir(parents=True, exist_ok=True)
    with browser.chromium(1400, 1000) as driver:
        for name, path in PAGES.items():
            driver.get(url + path)
            height = driver.execute_script("return document.body.scrollHeight")
            driver.set_window_size(1400, min(max(int(height) + 40, 600), 2400))
            driver.save_screenshot(str(IMAGES / name))
            print(f"wrote {IMAGES / name}", file=sys.stderr)


def main() -> None:
    missing = browser.missing()
    if missing:
        raise SystemExit(missing)
    with tempfile.TemporaryDirectory(prefix="salam-screenshots-") as tmp:
        root, port, web = project(Path(tmp) / "project"), free_port(), free_port()
        address = f"127.0.0.1:{port}"
        temporal = [str(BIN / "temporal"), "server", "start-dev", "--headless", "--ip"]
        temporal += ["127.0.0.1", "--port", str(port), "--log-level", "warn"]
        temporal += ["--namespace", "ingestion-dev"]
        with process(temporal, Path(tmp) / "temporal.log"):
            health = [str(BIN / "temporal"), "operator", "cluster", "health", "--address", address]
            wait_for(health)
            reconcile(root, address, "--env", "dev")
            crontab = root / ".salam/cron/salam-dev.cron"
            crontab.write_text(crontab.read_text().replace("30 * * * *", "50 * * * *"))
            ui = [str(BIN / "reconcile"), "ui", "--env", "dev", "--root", str(root), *BACKENDS]
            ui += ["--set", f"temporal.address={address}", "--listen", f"127.0.0.1:{web}"]
            with process(ui, Path(tmp) / "ui.log"):
                wait_for(f"http://127.0.0.1:{web}/healthz")
                take(f"http://127.0.0.1:{web}")


if __name__ == "__main__":
    main()
