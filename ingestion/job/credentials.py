"""The job's ``credentials`` stage: a secret reference resolved, or a terminal :class:`JobError`.

A thin adapter over :mod:`ingestion.shared.references` (the one resolver, with its whitespace
rule: ``env:`` exactly, ``file:`` without trailing line breaks), called by
:mod:`ingestion.job.source` for the JDBC user and password. A reference that cannot be resolved
here (unset variable, unreadable file, a ``vault:`` or ``k8s-secret:`` provider this process
does not have) ends the run as invalid (exit 3), with the resolver's hint. Errors name the
reference, never a value.
"""

from __future__ import annotations

from ingestion.job.errors import JobError, RunExit
from ingestion.shared import references

STAGE = "credentials"


def resolve(reference: str) -> str:
    """The secret ``reference`` points to, as text."""
    try:
        return references.resolve_text(reference)
    except references.UnresolvedReference as exc:
        raise JobError(STAGE, exc.message, exc.hint, RunExit.INVALID) from None
