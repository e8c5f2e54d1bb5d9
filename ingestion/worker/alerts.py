"""Failure alerts of a run: a webhook POST with a JSON body, and e-mail through SMTP.

Called by the alert activity on the worker, where the webhook reference (``env:`` /
``file:``) and the SMTP password reference are resolved (by :mod:`ingestion.shared.references`;
the POST is :mod:`ingestion.shared.webhook`'s, the e-mail :mod:`ingestion.shared.mail`'s).
The body names the job, environment, schedule, run and error, never a secret; log lines name
references, never their values. Every channel is tried even when another fails; a webhook or
SMTP server that fails or cannot be reached makes :func:`send` raise afterwards, naming each
failed channel; the activity retries, sending only the channels that have not gone out
(recorded in its heartbeat details). A reference that cannot be resolved here is reported as
skipped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ingestion.shared import mail, references, webhook

log = logging.getLogger("salam.worker")
TIMEOUT_SECONDS = 10
USER_AGENT = "salam-worker"


def body(request: Mapping[str, Any]) -> dict[str, Any]:
    plan = request.get("plan", {})
    return {
        "event": "salam.ingestion.failed",
        "job": plan.get("job"),
        "environment": plan.get("environment"),
        "schedule_id": plan.get("schedule_id"),
        "workflow_id": request.get("workflow_id"),
        "run_id": request.get("run_id"),
        "attempt": request.get("attempt"),
        "error": request.get("error"),
        "summary": request.get("summary") or {},
        "digest": plan.get("bookkeeping", {}).get("digest"),
    }


class AlertsFailed(RuntimeError):
    """Some channels failed; ``sent`` names those that went out, not to be sent again."""

    def __init__(self, message: str, sent: list[str]) -> None:
        super().__init__(message)
        self.sent = sent


def send(
    request: Mapping[str, Any], smtp: Mapping[str, Any] | None, already_sent: Sequence[str] = ()
) -> dict[str, Any]:
    """Send every alert the plan asks for but ``already_sent`` (a retry's earlier successes);
    returns which channels were sent and skipped, or raises :class:`AlertsFailed`."""
    alerts = request.get("plan", {}).get("alerts", {}) or {}
    document = body(request)
    outcome: dict[str, list[str]] = {"sent": list(already_sent), "skipped": [], "failed": []}
    if alerts.get("webhook") and "webhook" not in already_sent:
        _deliver(
            "webhook",
            lambda: send_webhook(str(alerts["webhook"]), document),
            outcome,
        )
    if alerts.get("email") and "email" not in already_sent:
        if smtp:
            _deliver("email", lambda: send_email(smtp, list(alerts["email"]), document), outcome)
        else:
            outcome["skipped"].append("email")
    log.info(
        "job %s: alerts sent %s, skipped %s", document["job"], outcome["sent"], outcome["skipped"]
    )
    if outcome["failed"]:
        sent = ", ".join(outcome["sent"]) or "none"
        raise AlertsFailed(f"{'; '.join(outcome['failed'])} (alerts sent: {sent})", outcome["sent"])
    return {"sent": outcome["sent"], "skipped": outcome["skipped"]}


def _deliver(channel: str, deliver: Callable[[], None], outcome: dict[str, list[str]]) -> None:
    """Run one channel; record it as sent, skipped (unresolved reference) or failed."""
    try:
        deliver()
        outcome["sent"].append(channel)
    except references.UnresolvedReference as exc:
        log.warning("alert %s skipped: %s", channel, exc)
        outcome["skipped"].append(channel)
    except RuntimeError as exc:  # already worded without secrets
        log.warning("%s", exc)
        outcome["failed"].append(str(exc))


def send_webhook(reference: str, document: Mapping[str, Any]) -> None:
    """POST the alert to the URL ``reference`` points at; RuntimeError (no URL) on failure."""
    url = references.resolve_text(reference)
    try:
        webhook.post_json(url, document, timeout=TIMEOUT_SECONDS, user_agent=USER_AGENT)
    except webhook.WebhookError as exc:  # worded without the URL, which carries a token
        raise RuntimeError(f"alert webhook failed: {exc}") from None


def send_email(smtp: Mapping[str, Any], recipients: list[str], document: Mapping[str, Any]) -> None:
    """Mail the alert; raises RuntimeError (naming the server, never the password) on failure."""
    subject = f"[salam] {document['environment']}/{document['job']} failed"
    mail.send(smtp, recipients, subject, document)
