"""What keeps the web UI safe to open: loopback by default, a bearer token or a declared
authenticating proxy anywhere else, and strict response headers.

:func:`exposure_error` refuses a non-loopback listen address without a token or the proxy flag
(``reconcile serve`` and ``reconcile ui`` call it before binding). :func:`guard` answers 401 to
any request but the health probes when a token is set and the request does not carry
``Authorization: Bearer <token>`` (compared in constant time). :data:`HEADERS` go on every
response: the Content-Security-Policy ``default-src 'self'`` (no inline script or style, no
framing, forms only to this origin), no MIME sniffing, no referrer. The web UI's actions
(``reconcile serve --actions-token-ref``) want their own bearer token, even on loopback, and pass
:func:`forgery_error`: the header ``X-Salam-CSRF`` must carry the process's own random token (the
pages hold it in ``<meta name="salam-csrf">``), and an ``Origin``, when sent, must name the host
the request was sent to.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from urllib.parse import urlsplit

from ingestion.shared.httpserve import Guard, Request, Response

CSP = "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
HEADERS = (
    ("Content-Security-Policy", CSP),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"),
    ("Cache-Control", "no-store"),
)
OPEN = ("/healthz", "/readyz")  # probes need no token
CSRF_HEADER = "X-Salam-CSRF"


def loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def exposure_error(host: str, token: str | None, proxy: bool) -> str | None:
    """Why ``host`` may not be listened on, or None."""
    if loopback(host) or token is not None or proxy:
        return None
    return (
        f"{host} is not a loopback address: set --token-ref (a bearer token every request must "
        "carry) or --behind-proxy (an authenticating proxy in front of it)"
    )


def bearer(request: Request, token: str) -> bool:
    """Whether the request carries ``Authorization: Bearer <token>`` (constant-time compare)."""
    given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
    return hmac.compare_digest(given.encode(), token.encode())


def guard(
    token: str | None, open_paths: tuple[str, ...] = OPEN, own_token: tuple[str, ...] = ()
) -> Guard:
    """Refuse requests without the token (``open_paths`` excepted: probes, a route with a
    token of its own such as the git webhook; and POSTs under the ``own_token`` prefixes: the
    web UI's actions, which want the actions token)."""

    def check(request: Request) -> Response | None:
        if token is None or request.path in open_paths or bearer(request, token):
            return None
        if request.method == "POST" and own_token and request.path.startswith(own_token):
            return None
        return Response(
            401, b'{"error": "missing or wrong token"}\n', headers=(("WWW-Authenticate", "Bearer"),)
        )

    return check


def csrf_token() -> str:
    """A random token for this process: pages carry it, every action must send it back."""
    return secrets.token_urlsafe(32)


def forgery_error(request: Request, csrf: str) -> str | None:
    """Why an action request may have been forged by another site, or None."""
    given = request.headers.get(CSRF_HEADER.lower(), "")
    if not hmac.compare_digest(given.encode(), csrf.encode()):
        return f"missing or wrong {CSRF_HEADER} header: reload the page and try again"
    origin = request.headers.get("origin")
    if origin is not None and urlsplit(origin).netloc != request.headers.get("host"):
        return f"refused a request from another origin ({origin})"
    return None
