"""One apply per environment at a time: an exclusive ``flock`` on ``<state dir>/<env>/apply.lock``.

The lock file records its holder (pid, user, host, start time) so that a second apply that
gives up after its bounded wait can say who holds the lock. ``flock`` locks die with their
process, so a killed apply never leaves a stale lock behind. Across several machines the state
directory must be shared storage that honours ``flock``, or applies run from one place; see the
README.
"""

from __future__ import annotations

import contextlib
import fcntl
import getpass
import json
import os
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path


class LockTimeout(Exception):
    """Another apply holds the environment's lock for longer than we were willing to wait."""


@contextlib.contextmanager
def hold(path: Path, timeout: float, poll: float = 0.1) -> Iterator[None]:
    """Hold the lock at ``path`` for the duration of the ``with`` block."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        _acquire(handle, path, timeout, poll)
        holder = {
            "pid": os.getpid(),
            "user": getpass.getuser(),
            "host": socket.gethostname(),
            "since": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        os.ftruncate(handle, 0)
        os.pwrite(handle, json.dumps(holder).encode(), 0)
        yield
    finally:
        os.close(handle)


def _acquire(handle: int, path: Path, timeout: float, poll: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise LockTimeout(
                    f"another apply holds {path} ({describe_holder(path)}); "
                    f"gave up after {timeout:g}s"
                ) from None
            time.sleep(poll)


def describe_holder(path: Path) -> str:
    try:
        holder = json.loads(path.read_text() or "{}")
    except (OSError, ValueError):
        return "holder unknown"
    if not holder:
        return "holder unknown"
    who = f"{holder.get('user')}@{holder.get('host')}"
    return f"pid {holder.get('pid')} of {who} since {holder.get('since')}"
