"""What a long ``reconcile`` run is doing, shown once it has taken a second.

The engine names each stage as it starts (``ReconcileOptions.progress``: loading, checking the
policies, reading the backends, comparing, applying, verifying). :class:`Progress` keeps the
latest and shows nothing until the run has lasted :data:`DELAY`; from then on, on a terminal, one
transient spinner line that follows the stages and is gone when the run ends, and in CI or a
pipe (``CI`` set, or stderr not a terminal), a plain ``reconcile: <stage> (2.1s)`` line per stage
on stderr. A run that ends within the second prints nothing more than before.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from rich.status import Status

DELAY = 1.0


class Progress:
    def __init__(self, stream: IO[str] | None = None, delay: float = DELAY) -> None:
        self.stream = stream or sys.stderr
        self.plain = bool(os.environ.get("CI")) or not self.stream.isatty()
        self.started = time.monotonic()
        self.stage = ""
        self._lock = threading.Lock()
        self._due = False  # the run has lasted the delay
        self._ended = False
        self._status: Status | None = None
        self._timer = threading.Timer(delay, self._expired)
        self._timer.daemon = True
        self._timer.start()

    def __call__(self, stage: str) -> None:
        """The engine starts ``stage``."""
        with self._lock:
            self.stage = stage
            if self._due and not self._ended:
                self._say()

    def pause(self) -> None:
        """Clear the spinner while the command prints or asks (the next stage shows again)."""
        with self._lock:
            self._clear()

    def stop(self) -> None:
        """The run is over: nothing more is shown."""
        self._timer.cancel()
        with self._lock:
            self._ended = True
            self._clear()

    def _expired(self) -> None:
        with self._lock:
            self._due = True
            if self.stage and not self._ended:
                self._say()

    def _say(self) -> None:
        if self.plain:
            elapsed = time.monotonic() - self.started
            self.stream.write(f"reconcile: {self.stage} ({elapsed:.1f}s)\n")
            self.stream.flush()
        elif self._status is None:
            from rich.console import Console  # a terminal's spinner: loaded when first shown

            console = Console(file=self.stream, highlight=False)
            self._status = console.status(self.stage, spinner="dots")
            self._status.start()
        else:
            self._status.update(self.stage)

    def _clear(self) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None
