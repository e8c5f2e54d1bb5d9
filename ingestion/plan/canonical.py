"""Canonical JSON and plan digests: the same plan always gives the same bytes and digest.

``digest`` is the sha256 of the compact canonical JSON of the plan without
``bookkeeping.digest`` and without the ``bookkeeping.git_*`` fields, so a commit that does not
change a job does not change its digest.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

GIT_FIELDS = ("git_revision", "git_dirty")


def dumps(value: Any) -> str:
    """Human-readable canonical JSON (sorted keys, 2-space indent, trailing newline)."""
    return json.dumps(value, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def compact(value: Any) -> bytes:
    """Compact canonical JSON bytes, the input of digests."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def without_git(plan: Mapping[str, Any], *also: str) -> dict[str, Any]:
    """``plan`` without its git bookkeeping (what is committed under manifests/), nor the
    bookkeeping fields ``also`` names: a new top level and bookkeeping, the rest shared with
    ``plan`` (read it, do not change it)."""
    stripped = dict(plan)
    bookkeeping = stripped.get("bookkeeping")
    if isinstance(bookkeeping, Mapping):
        dropped = (*GIT_FIELDS, *also)
        stripped["bookkeeping"] = {k: v for k, v in bookkeeping.items() if k not in dropped}
    return stripped


def digest(plan: Mapping[str, Any]) -> str:
    """The plan's digest: sha256 over its canonical form without git fields and digest."""
    return hashlib.sha256(compact(without_git(plan, "digest"))).hexdigest()
