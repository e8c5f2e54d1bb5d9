"""Resolve secret references (``env:NAME``, ``file:/path``) where the process runs.

Used by the worker (alert webhooks, SMTP password) and the Temporal connection (TLS files, API
key). ``vault:`` and ``k8s-secret:`` references need a provider this process does not have:
they raise :class:`UnresolvedReference`. Messages name the reference, never its value.
"""

from __future__ import annotations

import os
from pathlib import Path


class UnresolvedReference(Exception):
    """A reference that cannot be resolved here; the message names it, never a value."""


def resolve_text(reference: str) -> str:
    """The secret a reference points at, as text (surrounding whitespace stripped)."""
    return resolve_bytes(reference).decode().strip()


def resolve_bytes(reference: str) -> bytes:
    """The secret a reference points at, as bytes (TLS certificates and keys)."""
    kind, _, name = reference.partition(":")
    if kind == "env":
        value = os.environ.get(name)
        if value is None:
            raise UnresolvedReference(
                f"environment variable {name} (from '{reference}') is not set"
            )
        return value.encode()
    if kind == "file":
        try:
            return Path(name).read_bytes()
        except OSError as exc:
            raise UnresolvedReference(f"cannot read '{reference}': {exc.strerror}") from exc
    raise UnresolvedReference(
        f"'{kind}:' references cannot be resolved by this process ('{reference}')"
    )
