"""Failure alerts of a run: a webhook POST with a JSON body, and e-mail through SMTP.

Called by the alert activity on the worker, the only place the webhook reference (``env:`` /
``file:``) and the SMTP password reference are resolved. The body names the job, environment,
schedule, run and error, never a secret; log lines name references, never their values. A
webhook that answers with an error raises (the activity retries); a reference that cannot be
resolved here is reported as skipped.
"""

from __future__ import annotations

import json
import logging
import smtplib
import urllib.request
from collections.abc import Mapping
from email.message import EmailMessage
from typing import Any

from ingestion.worker import references

log = logging.getLogger("salam.worker")
TIMEOUT_SECONDS = 10


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


def send(request: Mapping[str, Any], smtp: Mapping[str, Any] | None) -> dict[str, Any]:
    """Send every alert the plan asks for; returns which channels were sent and skipped."""
    alerts = request.get("plan", {}).get("alerts", {}) or {}
    document = body(request)
    sent, skipped = [], []
    if alerts.get("webhook"):
        try:
            post_webhook(references.resolve_text(alerts["webhook"]), document)
            sent.append("webhook")
        except references.UnresolvedReference as exc:
            log.warning("alert webhook skipped: %s", exc)
            skipped.append("webhook")
    if alerts.get("email"):
        if smtp:
            send_email(smtp, list(alerts["email"]), document)
            sent.append("email")
        else:
            skipped.append("email")
    log.info("job %s: alerts sent %s, skipped %s", document["job"], sent, skipped)
    return {"sent": sent, "skipped": skipped}


def post_webhook(url: str, document: Mapping[str, Any]) -> None:
    data = json.dumps(document, sort_keys=True).encode()
    request = urllib.request.Request(
        url, data=data, method="POST", headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            response.read()
    except OSError as exc:  # the URL carries a token: never echo it
        raise RuntimeError(f"alert webhook failed: {type(exc).__name__}") from None


def send_email(smtp: Mapping[str, Any], recipients: list[str], document: Mapping[str, Any]) -> None:
    message = EmailMessage()
    message["Subject"] = f"[salam] {document['environment']}/{document['job']} failed"
    message["From"] = str(smtp.get("sender", "salam@localhost"))
    message["To"] = ", ".join(recipients)
    message.set_content(json.dumps(document, sort_keys=True, indent=2))
    with smtplib.SMTP(
        str(smtp["host"]), int(smtp.get("port", 25)), timeout=TIMEOUT_SECONDS
    ) as client:
        if smtp.get("starttls"):
            client.starttls()
        if smtp.get("username"):
            password = (
                references.resolve_text(str(smtp["password_ref"]))
                if smtp.get("password_ref")
                else ""
            )
            client.login(str(smtp["username"]), password)
        client.send_message(message)
