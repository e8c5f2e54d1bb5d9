"""The inventory: every object Salam applied in an environment, with where it lives.

``<state dir>/<env>/inventory.json`` lists each object an apply left live — backend, key
(``backend/scope/name``), job, digest — and its *location*: the environment.yaml settings,
by dotted name, under which a backend reads it (``crontab.target``, ``airflow.dags_folder``,
``export.folder``, ``temporal.namespace``, ``kubernetes.namespace``). Ownership markers on the
objects stay the source of truth; the inventory says where to look. When the config moves a
location (a crontab target switched from a file to a user, another DAG folder or namespace),
the engine opens a backend at each recorded location the config no longer names
(:func:`elsewhere`), so drift sees what was left there and prune removes it.

Written after every apply (:func:`record`), atomically; a missing file is an empty inventory,
an unreadable one is reported and treated as empty (the live markers still protect everything).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler import atomicfile
from reconciler.model import Action, LiveResource, ResourceKey, Result

FILE_NAME = "inventory.json"
FORMAT = 1

Location = Mapping[str, Any]  # dotted setting name -> value


class InventoryError(Exception):
    """The inventory file cannot be read; the message names it."""


@dataclass(frozen=True)
class Entry:
    key: ResourceKey
    job: str
    digest: str
    location: Location

    def to_json(self) -> dict[str, Any]:
        return {
            "backend": self.key.backend,
            "scope": self.key.scope,
            "name": self.key.name,
            "job": self.job,
            "digest": self.digest,
            "location": dict(self.location),
        }

    @classmethod
    def from_json(cls, item: Mapping[str, Any]) -> Entry:
        key = ResourceKey(str(item["backend"]), str(item["scope"]), str(item["name"]))
        return cls(key, str(item.get("job", "")), str(item.get("digest", "")), item["location"])


def path(state_dir: Path) -> Path:
    return state_dir / FILE_NAME


def load(state_dir: Path) -> list[Entry]:
    """The recorded entries; empty when there is no inventory yet."""
    file = path(state_dir)
    try:
        document = json.loads(file.read_text(encoding="utf-8"))
        return [Entry.from_json(item) for item in document["objects"]]
    except FileNotFoundError:
        return []
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InventoryError(f"cannot read the inventory {file}: {exc}") from exc


def save(state_dir: Path, environment: str, entries: Iterable[Entry]) -> None:
    ordered = sorted(entries, key=lambda e: e.key)
    document = {
        "format": FORMAT,
        "environment": environment,
        "objects": [e.to_json() for e in ordered],
    }
    text = json.dumps(document, sort_keys=True, indent=2) + "\n"
    state_dir.mkdir(parents=True, exist_ok=True)
    atomicfile.write(path(state_dir), text.encode())


def settings_at(settings: Mapping[str, Any], location: Location) -> dict[str, Any]:
    """``settings`` with each dotted setting of ``location`` replaced (not merged) by its value."""
    result = copy.deepcopy(dict(settings))
    for dotted, value in location.items():
        *parents, leaf = dotted.split(".")
        cursor = result
        for part in parents:
            child = cursor.get(part)
            cursor[part] = child = dict(child) if isinstance(child, Mapping) else {}
            cursor = child
        cursor[leaf] = copy.deepcopy(value)
    return result


def elsewhere(
    entries: Iterable[Entry], settings: Mapping[str, Any], backends: Iterable[str]
) -> list[tuple[str, Location]]:
    """The (backend, location) pairs recorded for ``backends`` that the settings no longer name."""
    wanted = set(backends)
    found: dict[str, tuple[str, Location]] = {}  # each distinct location once
    for entry in entries:
        if entry.key.backend in wanted:
            marker = json.dumps([entry.key.backend, entry.location], sort_keys=True)
            found.setdefault(marker, (entry.key.backend, entry.location))
    return [
        found[marker]
        for marker in sorted(found)
        if settings_at(settings, found[marker][1]) != settings
    ]


def updated(
    entries: Sequence[Entry],
    seen: Iterable[tuple[LiveResource, Location]],
    results: Iterable[tuple[Result, Location]],
) -> list[Entry]:
    """The inventory after an apply: ``seen`` (the managed resources read, with their
    locations) replaces what was recorded for their keys; then each applied create or update
    is added and each applied delete removed (a move: both). Keys this run did not read are kept."""
    current = {e.key: e for e in entries}
    for resource, location in seen:
        current[resource.key] = Entry(
            resource.key, resource.job, resource.meta.get("digest", ""), location
        )
    for result, location in results:
        change = result.change
        if not result.ok or change.action is Action.NOOP:
            continue
        if change.action is Action.MOVE and change.before is not None:
            current.pop(change.before.key, None)  # and added at its new key below
        if change.action is Action.DELETE:
            current.pop(change.key, None)
        elif change.after is not None:
            digest = change.after.meta.get("digest", "")
            current[change.key] = Entry(change.key, change.after.job, digest, location)
    return list(current.values())
