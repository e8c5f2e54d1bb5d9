"""Send one JSON document as an e-mail through the environment's SMTP server (``smtp:``).

The one SMTP client of Salam's alerts: the worker's failure alerts
(:mod:`ingestion.worker.alerts`) and the controller's incident alerts
(:mod:`reconciler.controller.alerting`) call :func:`send`, each with its own subject. The
password is a secret reference resolved here, at send time (:mod:`ingestion.shared.references`,
which raises :class:`~ingestion.shared.references.UnresolvedReference` when it cannot); a failure
raises RuntimeError naming the server, never the password.
"""

from __future__ import annotations

import json
import smtplib
import ssl
from collections.abc import Mapping, Sequence
from email.message import EmailMessage
from typing import Any

from ingestion.shared import references

TIMEOUT_SECONDS = 10


def send(
    smtp: Mapping[str, Any], recipients: Sequence[str], subject: str, document: Mapping[str, Any]
) -> None:
    """Mail ``document`` (as indented JSON) to ``recipients``; RuntimeError on failure."""
    password = (
        references.resolve_text(str(smtp["password_ref"])) if smtp.get("password_ref") else ""
    )
    host, port = str(smtp["host"]), int(smtp.get("port", 25))
    try:
        with smtplib.SMTP(host, port, timeout=TIMEOUT_SECONDS) as client:
            if smtp.get("starttls"):
                client.starttls(context=ssl.create_default_context())
            if smtp.get("username"):
                client.login(str(smtp["username"]), password)
            client.send_message(_message(smtp, recipients, subject, document))
    except OSError as exc:  # smtplib.SMTPException and ssl.SSLError are OSErrors
        reason = str(exc).replace(password, "***") if password else str(exc)
        raise RuntimeError(
            f"alert e-mail via {host}:{port} failed: {type(exc).__name__}: {reason}"
        ) from None


def _message(
    smtp: Mapping[str, Any], recipients: Sequence[str], subject: str, document: Mapping[str, Any]
) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = str(smtp.get("sender", "salam@localhost"))
    message["To"] = ", ".join(recipients)
    message.set_content(json.dumps(document, sort_keys=True, indent=2))
    return message
