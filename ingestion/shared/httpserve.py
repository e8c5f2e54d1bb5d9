"""A small loopback HTTP endpoint: a table of routes served from a daemon thread (stdlib only).

Shared by the controller (:mod:`reconciler.controller.server`: health, status, metrics,
webhook) and the worker (:mod:`ingestion.worker.observe`: health, readiness, metrics). Routes
are ``(method, path prefix) → handler``; a handler gets a :class:`Request` — the path (no
query string, no trailing slash), the query parameters, the lower-cased headers and the body
(a POST's, up to 1 MiB) — and returns a :class:`Response`. An unknown route is a JSON 404. A
*guard* (:attr:`HttpServer.guard`) sees every request first and may answer it instead (a
missing token); :attr:`HttpServer.headers` are added to every response (a Content-Security-
Policy). Requests are not logged (probes would flood the log). Binding a taken port raises
``OSError``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"
HTML = "text/html; charset=utf-8"
MAX_BODY = 1 << 20  # a POST body is read up to this many bytes


@dataclass(frozen=True)
class Response:
    code: int
    body: bytes
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()

    @classmethod
    def json(cls, document: Any, code: int = 200) -> Response:
        text = json.dumps(document, sort_keys=True, indent=2) + "\n"
        return cls(code, text.encode())

    @classmethod
    def metrics(cls, text: str) -> Response:
        """Prometheus text exposition format (version 0.0.4)."""
        return cls(200, text.encode(), PROMETHEUS_TEXT)

    @classmethod
    def html(cls, text: str, code: int = 200) -> Response:
        return cls(code, text.encode(), HTML)


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # without the query string or a trailing slash; "/" at the root
    query: Mapping[str, str] = field(default_factory=dict)  # a repeated parameter: its last value
    headers: Mapping[str, str] = field(default_factory=dict)  # names lower-cased
    body: bytes = b""

    @classmethod
    def of(cls, method: str, target: str, headers: Mapping[str, str], body: bytes = b"") -> Request:
        """The request for a request target (``/compare?from=uat&to=prod``)."""
        parts = urlsplit(target)
        path = parts.path.rstrip("/") or "/"
        return cls(method, path, dict(parse_qsl(parts.query)), dict(headers), body)

    def form(self) -> dict[str, str]:
        """The body as an ``application/x-www-form-urlencoded`` form ({} when it is none)."""
        if not self.headers.get("content-type", "").startswith("application/x-www-form"):
            return {}
        return dict(parse_qsl(self.body.decode("utf-8", errors="replace")))


Handler = Callable[[Request], Response]
Guard = Callable[[Request], Response | None]  # a response refuses the request


class HttpServer:
    """Routes served on ``host:port`` (port 0: any free port; see :attr:`url`)."""

    def __init__(self, host: str, port: int, name: str = "salam-http") -> None:
        self.name = name
        self.routes: dict[tuple[str, str], Handler] = {}
        self.guard: Guard = lambda request: None
        self.headers: tuple[tuple[str, str], ...] = ()
        self.httpd = ThreadingHTTPServer((host, port), _handler_class(self))
        self.httpd.daemon_threads = True

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def route(self, method: str, prefix: str, handler: Handler) -> None:
        self.routes[(method, prefix)] = handler

    def start(self) -> None:
        threading.Thread(target=self.httpd.serve_forever, name=self.name, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def dispatch(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes = b""
    ) -> Response:
        request = Request.of(method, target, headers, body)
        refused = self.guard(request)
        if refused is not None:
            return refused
        path = request.path
        for (verb, prefix), handler in self.routes.items():
            if verb == method and (path == prefix or path.startswith(prefix + "/")):
                return handler(request)
        return Response.json({"error": f"no route {method} {path}"}, 404)


def _handler_class(server: HttpServer) -> type[BaseHTTPRequestHandler]:
    class RequestHandler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._respond("GET")

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self._respond("POST", self.rfile.read(min(length, MAX_BODY)))

        def _respond(self, method: str, body: bytes = b"") -> None:
            headers = {k.lower(): v for k, v in self.headers.items()}
            response = server.dispatch(method, self.path, headers, body)
            self.send_response(response.code)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
            for name, value in (*server.headers, *response.headers):
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(response.body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return RequestHandler
