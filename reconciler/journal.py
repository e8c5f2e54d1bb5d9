"""The journal: the before-image of every live resource an apply touches, written before it.

A journal file is written (and fsynced) before the first change and marked finished after the
apply (and any restore) ends. Rollback is computed from it: the before-images become the desired
state for the touched keys. A journal still marked ``started`` belongs to an apply that was
killed; the next run reports it and converges by reconciling from what is live.
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

from reconciler.model import Change, LiveResource, ResourceKey


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

    def keys(self) -> set[ResourceKey]:
        return {e.key for e in self.entries}

    def finish(self, status: str) -> None:
        document = json.loads(self.path.read_text())
        document.update(status=status, finished=_now())
        _write(self.path, document)


def start(directory: Path, changes: Iterable[Change], revision: str | None) -> Journal:
    """Record the before-image of every change's resource; durable before returning."""
    apply_id = f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"
    entries = tuple(Entry(c.key, c.before) for c in changes)
    document = {
        "apply_id": apply_id,
        "status": "started",
        "started": _now(),
        "revision": revision,
        "entries": [_entry_json(e) for e in entries],
    }
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{apply_id}.json"
    _write(path, document)
    return Journal(path, apply_id, entries)


def unfinished(directory: Path) -> list[str]:
    """Apply ids whose journal was never finished (the apply was killed)."""
    if not directory.is_dir():
        return []
    found = []
    for path in sorted(directory.glob("*.json")):
        try:
            document = json.loads(path.read_text())
        except ValueError:
            continue
        if document.get("status") == "started":
            found.append(str(document.get("apply_id", path.stem)))
            document.update(status="abandoned", finished=_now())
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
