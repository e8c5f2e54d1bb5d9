"""POST one JSON document to a webhook: the one HTTP client of Salam's alerts and events.

Called by the job's events sink (:mod:`ingestion.job.events`, a pre-serialised, redacted line),
the worker's failure alerts (:mod:`ingestion.worker.alerts`) and the reconciler's drift webhook
(:mod:`reconciler.alerts`); each resolves the URL from its secret reference and words the
failure its own way. A webhook URL embeds its token, so it is a secret: :class:`WebhookError`
says what went wrong (``answered HTTP 500``, ``unreachable: Connection refused``) and never
holds the URL, not even through a chained exception.
"""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any

TIMEOUT_SECONDS = 10.0


class WebhookError(Exception):
    """The POST failed; ``status`` is the HTTP status when the receiver answered."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def post_json(
    url: str, document: Mapping[str, Any] | str, *, timeout: float, user_agent: str
) -> int:
    """POST ``document`` (a mapping, or JSON text sent as is) to ``url``; the 2xx status.

    A mapping is serialised with sorted keys. Raises :class:`WebhookError` when ``url`` is not
    an http(s) URL, the receiver cannot be reached or it answers with an error status.
    """
    if not url.startswith(("https://", "http://")):
        raise WebhookError("is not an http(s) URL")
    text = document if isinstance(document, str) else json.dumps(document, sort_keys=True)
    try:
        request = urllib.request.Request(
            url,
            data=text.encode(),
            method="POST",
            headers={"Content-Type": "application/json", "User-Agent": user_agent},
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
            return int(response.status)
    except urllib.error.HTTPError as exc:
        exc.close()
        raise WebhookError(f"answered HTTP {exc.code}", exc.code) from None
    except OSError as exc:
        raise WebhookError(f"unreachable: {_reason(exc)}") from None
    except (ValueError, http.client.InvalidURL) as exc:  # their messages quote the URL
        raise WebhookError(f"is not a usable URL ({type(exc).__name__})") from None
    except http.client.HTTPException as exc:  # not an OSError: a receiver speaking no HTTP
        raise WebhookError(f"answered no valid HTTP ({type(exc).__name__})") from None


def _reason(exc: OSError) -> str:
    """Why the receiver could not be reached, from the error's type and errno text only."""
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    if isinstance(reason, TimeoutError):
        return "timed out"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror
    return type(reason).__name__ if isinstance(reason, BaseException) else "URLError"
