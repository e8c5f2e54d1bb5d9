"""The audit trail: one JSON line per apply in ``<state dir>/<env>/audit.jsonl``, plus the plans
that were applied, kept under ``<state dir>/<env>/plans/<apply id>/`` for visibility and audits
(the infra spec's "store generated orchestration plans").

Written by :func:`reconciler.engine.apply`, read by ``reconcile history`` and the web UI (each
record summarised by :func:`row`). Each record says who
applied which git revision (the environment's, even when no plan is left), whether it was
applied from uncommitted files (``dirty``), whether it was a ``reconcile rollback --to REV``
(``rollback_to``: REV as given), whether it was a ``reconcile pause`` / ``resume``
(``action``: ``pause`` / ``resume``, None for an apply of the config) and whether the web UI
asked for it (``via``: ``ui``, else None), and what every change and restore did."""

from __future__ import annotations

import getpass
import json
import os
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ingestion.plan import canonical
from reconciler.model import Result


@dataclass(frozen=True)
class Entry:
    """What one apply did, as the audit log records it."""

    apply_id: str
    revision: str | None
    dirty: bool
    rollback_to: str | None  # the REV of `reconcile rollback --to REV`; None otherwise
    outcome: str
    results: Sequence[Result]
    restored: Sequence[Result] = ()
    action: str | None = None  # "pause" / "resume" (reconciler.pausing); None: the config's
    via: str | None = None  # "ui": asked for from the web UI


def record(
    directory: Path, applied: Entry, plans: Mapping[str, Mapping[str, Any]]
) -> dict[str, Any]:
    """Append one audit record and keep the applied plans; returns the record."""
    entry = {
        "time": datetime.now(UTC).isoformat(timespec="seconds"),
        "apply_id": applied.apply_id,
        "user": getpass.getuser(),
        "host": socket.gethostname(),
        "revision": applied.revision,
        "dirty": applied.dirty,
        "rollback_to": applied.rollback_to,
        "action": applied.action,
        "via": applied.via,
        "outcome": applied.outcome,
        "digests": {job: plan["bookkeeping"]["digest"] for job, plan in sorted(plans.items())},
        "changes": [_result(r) for r in applied.results],
        "restored": [_result(r) for r in applied.restored],
    }
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / "audit.jsonl").open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(entry, sort_keys=True) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    kept = directory / "plans" / applied.apply_id
    kept.mkdir(parents=True, exist_ok=True)
    for job, plan in plans.items():
        (kept / f"{job}.json").write_text(canonical.dumps(plan), encoding="utf-8")
    return entry


def history(directory: Path) -> list[dict[str, Any]]:
    path = directory / "audit.jsonl"
    if not path.exists():
        return []
    return [
        json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
    ]


def row(entry: Mapping[str, Any]) -> dict[str, Any]:
    """One record summarised for a listing (``reconcile history``, the web UI's timeline)."""
    changes = entry.get("changes") or []
    restored = entry.get("restored") or []
    return {
        "time": str(entry.get("time", "")),
        "apply_id": str(entry.get("apply_id", "")),
        "revision": entry.get("revision"),
        "dirty": bool(entry.get("dirty")),
        "rollback_to": entry.get("rollback_to"),
        "action": entry.get("action"),
        "via": entry.get("via"),
        "outcome": str(entry.get("outcome", "")),
        "changes": len(changes),
        "failed": sum(1 for c in changes if not c.get("ok", True)),
        "restored": len(restored),
        "not_restored": sum(1 for r in restored if not r.get("ok", True)),
        "user": str(entry.get("user", "")),
        "host": str(entry.get("host", "")),
    }


def revision_label(row: Mapping[str, Any]) -> str:
    """The revision as the ownership markers write it: 12 hex, ``+dirty`` when dirty."""
    revision = (row["revision"] or "-")[:12]
    return f"{revision}+dirty" if row["dirty"] and row["revision"] else revision


def _result(result: Result) -> dict[str, Any]:
    return {
        "key": str(result.change.key),
        "action": result.change.action.verb,
        "ok": result.ok,
        "error": result.error,
        "fields": [f.path for f in result.change.fields],
    }
