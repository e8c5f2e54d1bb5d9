"""An environment's sync policy (``sync:`` in environment.yaml) and its change windows.

:func:`of` reads the settings the schema has already checked, with the defaults filled in:
``detect`` for protected environments (prod) and ``apply`` elsewhere, no self-heal, prune,
a 3-minute interval, a 10-minute cap on back-off. :meth:`SyncPolicy.may_apply` follows Argo CD's
sync windows: applying is allowed when no ``allow`` window is defined or one is open, and never
while a ``deny`` window is open. A window is open at ``now`` when its cron schedule (the project's
5-field dialect, computed with ``cronsim`` in the window's time zone) fired within the last
``duration``.
"""

from __future__ import annotations

import enum
import zoneinfo
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import cronsim

from ingestion.config import durations

DEFAULT_INTERVAL = "3m"
DEFAULT_MAX_BACKOFF = "10m"


class Mode(enum.StrEnum):
    DETECT = "detect"  # render, diff, report; never write
    APPLY = "apply"  # apply new revisions (and drift, with self_heal) inside the windows


class WindowKind(enum.StrEnum):
    ALLOW = "allow"
    DENY = "deny"


@dataclass(frozen=True)
class Window:
    """A change window: it opens at each fire time of ``schedule`` and stays open ``duration``."""

    kind: WindowKind
    schedule: str
    duration: timedelta
    timezone: str = "UTC"

    def is_open(self, now: datetime) -> bool:
        """Whether a start of the window lies in ``(now - duration, now]``."""
        local = now.astimezone(zoneinfo.ZoneInfo(self.timezone))
        start = next(iter(cronsim.CronSim(self.schedule, local - self.duration)))
        return start <= local

    def describe(self) -> str:
        return f"{self.kind.value} '{self.schedule}' for {self.duration} ({self.timezone})"


@dataclass(frozen=True)
class SyncPolicy:
    """What the controller does for one environment."""

    mode: Mode
    self_heal: bool
    prune: bool
    interval: float  # seconds
    max_backoff: float  # seconds
    windows: tuple[Window, ...] = ()

    def may_apply(self, now: datetime) -> tuple[bool, str]:
        """Whether an apply is allowed at ``now`` (a timezone-aware time), and why not."""
        denied = [w for w in self.windows if w.kind is WindowKind.DENY and w.is_open(now)]
        if denied:
            return False, f"deny window open: {denied[0].describe()}"
        allows = [w for w in self.windows if w.kind is WindowKind.ALLOW]
        if allows and not any(w.is_open(now) for w in allows):
            return False, "outside every allow window"
        return True, ""

    def backoff(self, failures: int) -> float:
        """Seconds to wait after ``failures`` failures in a row (the interval when none)."""
        if failures <= 0:
            return self.interval
        return float(min(self.interval * 2 ** (failures - 1), self.max_backoff))


def of(env: str, settings: Mapping[str, Any], protected: Sequence[str]) -> SyncPolicy:
    """The sync policy of environment ``env`` from its (schema-checked) settings."""
    sync = settings.get("sync") or {}
    default_mode = Mode.DETECT if env in protected else Mode.APPLY
    return SyncPolicy(
        mode=Mode(sync.get("mode", default_mode)),
        self_heal=bool(sync.get("self_heal", False)),
        prune=bool(sync.get("prune", True)),
        interval=float(durations.seconds(sync.get("interval", DEFAULT_INTERVAL))),
        max_backoff=float(durations.seconds(sync.get("max_backoff", DEFAULT_MAX_BACKOFF))),
        windows=tuple(_window(w) for w in sync.get("windows") or ()),
    )


def source_of(settings: Mapping[str, Any]) -> tuple[str, str]:
    """The git remote and branch the controller follows (default origin, main)."""
    source = (settings.get("sync") or {}).get("source") or {}
    return str(source.get("remote", "origin")), str(source.get("branch", "main"))


def _window(raw: Mapping[str, Any]) -> Window:
    return Window(
        WindowKind(raw["kind"]),
        raw["schedule"],
        timedelta(seconds=durations.seconds(raw["duration"])),
        raw.get("timezone", "UTC"),
    )
