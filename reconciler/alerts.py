"""The drift webhook: one JSON POST summarising counted drift, to a URL held in a secret.

The URL comes from ``drift.webhook`` in environment.yaml, a secret reference (``env:NAME`` or
``file:/path``) resolved here, at run time, by :mod:`ingestion.worker.references`. It is a
secret (webhook URLs embed tokens): it never appears in output, errors or the body; messages
name the reference only.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from typing import Any

from ingestion.worker import references
from reconciler.drift import Finding, counted, summary

TIMEOUT_SECONDS = 10.0


class AlertError(Exception):
    """The alert could not be sent; the message never holds the URL."""


def body(environment: str, revision: str | None, findings: Sequence[Finding]) -> dict[str, Any]:
    """The JSON document posted: counts per kind and each counted finding (field paths only)."""
    drifted = counted(findings)
    return {
        "source": "salam",
        "event": "drift",
        "environment": environment,
        "revision": revision,
        "summary": summary(findings),
        "total": len(drifted),
        "ignored": len(findings) - len(drifted),
        "findings": [
            {
                "kind": f.kind.value,
                "key": str(f.key),
                "job": f.job,
                "fields": [change.path for change in f.fields],
            }
            for f in drifted
        ],
    }


def post(reference: str, document: Mapping[str, Any], timeout: float = TIMEOUT_SECONDS) -> int:
    """POST ``document`` as JSON to the URL ``reference`` points at; returns the HTTP status."""
    try:
        url = references.resolve_text(reference)
    except references.UnresolvedReference as exc:
        raise AlertError(f"drift webhook: {exc}") from None
    if not url.startswith(("https://", "http://")):
        raise AlertError(f"drift webhook: the value of '{reference}' is not an http(s) URL")
    request = urllib.request.Request(
        url,
        data=json.dumps(document, sort_keys=True).encode(),
        headers={"Content-Type": "application/json", "User-Agent": "salam-reconcile"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        raise AlertError(f"drift webhook ('{reference}') answered HTTP {exc.code}") from None
    except OSError as exc:
        reason = getattr(exc, "reason", exc)
        detail = getattr(reason, "strerror", None) or type(reason).__name__
        raise AlertError(f"drift webhook ('{reference}') unreachable: {detail}") from None
