"""The drift webhook: one JSON POST summarising counted drift, to a URL held in a secret.

The URL comes from ``drift.webhook`` in environment.yaml, a secret reference (``env:NAME`` or
``file:/path``) resolved here, at run time, by :mod:`ingestion.shared.references`, and the POST
is :mod:`ingestion.shared.webhook`'s; the controller's incident alerts
(:mod:`reconciler.controller.alerting`) post through :func:`post` too. The URL is a secret
(webhook URLs embed tokens): it never appears in output, errors or the body; messages name the
reference only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ingestion.shared import references, webhook
from reconciler.drift import Finding, counted, summary

TIMEOUT_SECONDS = 10.0
USER_AGENT = "salam-reconcile"


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


def post(
    reference: str,
    document: Mapping[str, Any],
    timeout: float = TIMEOUT_SECONDS,
    what: str = "drift webhook",
) -> int:
    """POST ``document`` as JSON to the URL ``reference`` points at; returns the HTTP status.
    ``what`` names the webhook in errors (the controller's incident alerts use it too)."""
    try:
        url = references.resolve_text(reference)
    except references.UnresolvedReference as exc:
        raise AlertError(f"{what}: {exc}") from None
    try:
        return webhook.post_json(url, document, timeout=timeout, user_agent=USER_AGENT)
    except webhook.WebhookError as exc:  # e.g. "answered HTTP 500"; never the URL
        raise AlertError(f"{what} ('{reference}') {exc}") from None
