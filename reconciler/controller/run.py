"""The controller process: the environments' loops, one after another, until told to stop.

:meth:`Controller.run` steps whichever environment is due first and sleeps until the next is
due; a webhook (:meth:`Controller.fetch_now`) makes every environment due at once, the web UI's
"sync now" (:meth:`Controller.sync_now`) one environment, asked to apply even with self-heal
off (:meth:`EnvironmentLoop.request_sync`). SIGTERM or SIGINT (:meth:`Controller.stop`) only
sets a flag: the step under way — an apply included — finishes, then ``run`` returns. Nothing
else is kept in memory that a restart needs: the audit log, journal, inventory and pin in each
state directory are the loop's memory.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Mapping, Sequence
from types import FrameType

from reconciler.controller.loop import EnvironmentLoop
from reconciler.controller.status import EnvironmentStatus


class Controller:
    def __init__(self, loops: Sequence[EnvironmentLoop]) -> None:
        self.loops = {loop.target.env: loop for loop in loops}
        self._stopping = threading.Event()
        self._wake = threading.Event()
        self._due_now: set[str] = set()  # environments to step at once (webhook, sync now)
        self._lock = threading.Lock()

    def statuses(self) -> Mapping[str, EnvironmentStatus]:
        return {env: loop.status for env, loop in self.loops.items()}

    def ready(self) -> bool:
        """Every environment has finished a first pass."""
        return all(loop.status.checked for loop in self.loops.values())

    def stop(self, *_: object) -> None:
        self._stopping.set()
        self._wake.set()

    def fetch_now(self, env: str | None = None) -> None:
        """Make every environment (or ``env``) due at once."""
        with self._lock:
            self._due_now |= {env} if env else set(self.loops)
        self._wake.set()

    def sync_now(self, env: str) -> None:
        """Step ``env`` at once, applying even with self-heal off (windows and pins hold)."""
        self.loops[env].request_sync()
        self.fetch_now(env)

    def handle_signals(self) -> None:
        """SIGTERM and SIGINT finish the current step, then stop (call from the main thread)."""

        def handler(signum: int, frame: FrameType | None) -> None:
            self.stop()

        signal.signal(signal.SIGTERM, handler)
        signal.signal(signal.SIGINT, handler)

    def run(self, once: bool = False) -> None:
        """Step the environments as they fall due; ``once``: one pass each, then return."""
        due = dict.fromkeys(self.loops, 0.0)
        stepped: set[str] = set()
        while not self._stopping.is_set():
            env = min(due, key=lambda name: due[name])
            wait = due[env] - time.monotonic()
            if wait > 0:
                self._sleep(wait, due)
                continue
            due[env] = time.monotonic() + self.loops[env].step()
            stepped.add(env)
            if once and stepped == set(self.loops):
                return

    def _sleep(self, seconds: float, due: dict[str, float]) -> None:
        self._wake.wait(seconds)
        self._wake.clear()
        with self._lock:
            woken, self._due_now = self._due_now, set()
        for env in woken:
            due[env] = 0.0
