"""Crash injection for the crash-safety tests: ``SALAM_CRASH_AT=<point>`` kills the process.

Points: ``before_write``, ``during_write`` (as soon as Spark has started writing data files),
``after_write`` (files written, not committed), ``after_commit`` (snapshot committed, before the
COMPLETE event). The kill is a SIGKILL of the driver process: no cleanup, no ``finally``.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

VARIABLE = "SALAM_CRASH_AT"


def armed(name: str) -> bool:
    return os.environ.get(VARIABLE) == name


def point(name: str) -> None:
    """Kill this process now if the crash point ``name`` is armed."""
    if armed(name):
        os.kill(os.getpid(), signal.SIGKILL)


def kill_when_files_appear(directory: Path) -> None:
    """When ``during_write`` is armed: kill the process once a file shows up under ``directory``."""
    if not armed("during_write"):
        return

    def watch() -> None:
        while True:
            if directory.exists() and any(p.is_file() for p in directory.rglob("*")):
                os.kill(os.getpid(), signal.SIGKILL)
            time.sleep(0.005)

    threading.Thread(target=watch, daemon=True).start()
