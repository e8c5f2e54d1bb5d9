"""The journal: the before-image of every live resource an apply touches, written before it.

A journal file is written (and fsynced) before the first change and marked finished after the
apply (and any restore) ends, with the apply's status. Rollback is computed from it: the
before-images become the desired state for the touched keys. Two kinds of journal are
*leftovers* the next apply reports once, then converges by reconciling from what is live: one
still marked ``started`` (the apply was killed; it is then marked ``abandoned``) and one marked
``restore-failed``, which lists the keys it could not restore, or ``lease-lost`` (an apply that
stopped part-way when its apply lease may have passed to another holder); both then get a
``reported`` time.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from reconciler.model import ApplyStatus, Change, LiveResource, ResourceKey

STARTED = "started"
ABANDONED = "abandoned"
UNFINISHED = (ApplyStatus.RESTORE_FAILED, ApplyStatus.LEASE_LOST)  # reported once, then converged


@dataclass(frozen=True)
class Entry:
    key: ResourceKey
    before: LiveResource | None


@dataclass(frozen=True)
class Journal:
    path: Path
    apply_id: str
    entries: tuple[Entry, ...]

    def before_images(self) -> list[LiveResource]:
        return [e.before for e in self.entries if e.before is not None]

    def finish(self, status: str, not_restored: Iterable[ResourceKey] = ()) -> None:
        """Mark the apply ended with ``status``; ``not_restored`` keys keep their before-images
        here for a person (and the next run's note)."""
        document = json.loads(self.path.read_text())
        document.update(status=status, finished=_now())
        if status == ApplyStatus.RESTORE_FAILED:
            document["not_restored"] = sorted(str(key) for key in not_restored)
        _write(self.path, document)


@dataclass(frozen=True)
class Leftover:
    """A journal the next apply must report: a killed apply, a restore that failed, or an apply
    that lost its lease."""

    apply_id: str
    status: str
    path: Path
    not_restored: tuple[str, ...] = ()

    @property
    def note(self) -> str:
        if self.status == STARTED:
            return f"apply {self.apply_id} was interrupted; converging from the live state"
        if self.status == ApplyStatus.LEASE_LOST:
            return (
                f"apply {self.apply_id} lost its apply lease part-way; converging from the live "
                f"state; before-images in {self.path}"
            )
        keys = ", ".join(self.not_restored) or "some resources"
        return (
            f"apply {self.apply_id} failed and could not restore {keys}; "
            f"converging from the live state; before-images in {self.path}"
        )


def start(directory: Path, changes: Iterable[Change], revision: str | None) -> Journal:
    """Record the before-image of every change's resource; durable before returning."""
    apply_id = f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"
    entries = tuple(Entry(c.key, c.before) for c in changes)
    document = {
        "apply_id": apply_id,
        "status": STARTED,
        "started": _now(),
        "revision": revision,
        "entries": [_entry_json(e) for e in entries],
    }
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{apply_id}.json"
    _write(path, document)
    return Journal(path, apply_id, entries)


def leftovers(directory: Path) -> list[Leftover]:
    """Journals not yet reported: killed applies (then marked ``abandoned``) and failed
    restores (then given a ``reported`` time); each is returned by one call only."""
    if not directory.is_dir():
        return []
    found = []
    for path in sorted(directory.glob("*.json")):
        try:
            document = json.loads(path.read_text())
        except ValueError:
            continue
        status = document.get("status")
        failed = status in UNFINISHED and "reported" not in document
        if status != STARTED and not failed:
            continue
        apply_id = str(document.get("apply_id", path.stem))
        keys = tuple(document.get("not_restored") or ())
        found.append(Leftover(apply_id, str(status), path, keys))
        if status == STARTED:
            document.update(status=ABANDONED, finished=_now())
        else:
            document["reported"] = _now()
        _write(path, document)
    return found


def _entry_json(entry: Entry) -> dict[str, Any]:
    before = entry.before
    return {
        "key": [entry.key.backend, entry.key.scope, entry.key.name],
        "before": None
        if before is None
        else {
            "job": before.job,
            "spec": before.spec,
            "meta": dict(before.meta),
            "paused": before.paused,
            "managed": before.managed,  # False: an adopted object, given back unmarked
        },
    }


def _write(path: Path, document: Mapping[str, Any]) -> None:
    temporary = path.with_suffix(".tmp")
    with temporary.open("w", encoding="utf-8") as handle:
        json.dump(document, handle, sort_keys=True, indent=2, default=str)
        handle.flush()
        os.fsync(handle.fileno())
    temporary.replace(path)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
