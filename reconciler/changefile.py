"""Saved change sets, Terraform-style: ``--dry-run --out FILE`` then ``reconcile apply FILE``.

The file holds the change set (for people and reviews), the options that produced it, and two
fingerprints: of the live state it was computed against and of the plans (their digests). An
apply recomputes both under the environment's lock and refuses a stale change set — live state
or config changed since — instead of applying something nobody reviewed.

The ``--set`` overrides it was computed with are saved and applied again; overrides given to
``reconcile apply`` apply after them. The fingerprints decide whether that is allowed: an
override that changes any plan (or what is live) makes the change set stale, so only settings
that stay out of the plans — where and how to reach a scheduler (``temporal.address``,
``temporal.tls=null``) — can differ between the review and the apply.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ingestion.plan import canonical
from reconciler import engine, output

FORMAT = "salam.change-set/v1"


class StaleChangeSet(Exception):
    """The saved change set no longer matches live state or config."""


def fingerprints(current: engine.Reconciliation) -> dict[str, str]:
    live = sorted([str(r.key), r.spec, dict(r.meta), r.managed, r.paused] for r in current.live)
    plans = sorted((job, plan["bookkeeping"]["digest"]) for job, plan in current.plans.items())
    return {
        "live": hashlib.sha256(canonical.compact(live)).hexdigest(),
        "plans": hashlib.sha256(canonical.compact(plans)).hexdigest(),
    }


def write(path: Path, current: engine.Reconciliation) -> dict[str, Any]:
    options = current.options
    document = {
        "format": FORMAT,
        "environment": options.env,
        "revision": current.revision,
        "options": {
            "jobs": list(options.jobs),
            "backends": list(options.backends),
            "prune": options.prune,
            "allow_empty": options.allow_empty,
            "overrides": list(options.overrides),
            "revision": options.revision,
        },
        "fingerprints": fingerprints(current),
        "change_set": output.change_set_json(current.change_set),
    }
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(canonical.dumps(document), encoding="utf-8")
    temporary.replace(path)
    return document


def read(path: Path) -> dict[str, Any]:
    try:
        document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise StaleChangeSet(f"cannot read change set {path}: {exc}") from exc
    if document.get("format") != FORMAT:
        raise StaleChangeSet(f"{path} is not a Salam change set ({FORMAT})")
    return document


def options(
    document: dict[str, Any], root: Path, lock_timeout: float, overrides: Sequence[str] = ()
) -> engine.ReconcileOptions:
    """The engine options the change set was computed with; ``overrides`` come after its own."""
    saved = document["options"]
    return engine.ReconcileOptions(
        root=root,
        env=document["environment"],
        jobs=tuple(saved["jobs"]),
        backends=tuple(saved["backends"]),
        prune=saved["prune"],
        allow_empty=saved["allow_empty"],
        overrides=(*saved["overrides"], *overrides),
        revision=saved["revision"],
        lock_timeout=lock_timeout,
    )


def check(document: dict[str, Any], current: engine.Reconciliation) -> None:
    """Raise :class:`StaleChangeSet` unless live state and plans are as when it was saved."""
    now = fingerprints(current)
    saved = document["fingerprints"]
    changed = [what for what in ("live", "plans") if now[what] != saved[what]]
    if changed:
        reasons = {"live": "live state changed", "plans": "the configs changed"}
        if list(current.options.overrides) != list(document["options"]["overrides"]):
            reasons["plans"] = "the plans changed (the configs, or the --set given to apply)"
        raise StaleChangeSet(
            "stale change set: " + " and ".join(reasons[c] for c in changed) + " since it was saved"
        )
