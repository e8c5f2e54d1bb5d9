"""The controller's HTTP endpoint (loopback by default): health, readiness, status, webhook.

``GET /healthz`` is 200 while the process serves; ``GET /readyz`` is 200 once every environment
has finished a first pass (503 before); ``GET /status`` is the JSON status of every environment,
``GET /status/<env>`` of one; ``POST /webhook/git`` makes the controller fetch at once (with
``token`` set, only with the header ``Authorization: Bearer <token>``). Routes are a table of
``(method, path prefix) → handler``, so metrics or a UI can be added with :meth:`Server.route`.
Stdlib ``http.server``, one thread per request, in a daemon thread beside the loop.
"""

from __future__ import annotations

import hmac
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from reconciler.controller.run import Controller


@dataclass(frozen=True)
class Response:
    code: int
    body: bytes
    content_type: str = "application/json"

    @classmethod
    def json(cls, document: Any, code: int = 200) -> Response:
        text = json.dumps(document, sort_keys=True, indent=2) + "\n"
        return cls(code, text.encode())


Handler = Callable[[str, dict[str, str]], Response]  # (path, headers) → response


class Server:
    def __init__(self, controller: Controller, host: str, port: int, token: str | None = None):
        self.controller, self.token = controller, token
        self.routes: dict[tuple[str, str], Handler] = {}
        self.route("GET", "/healthz", lambda path, headers: Response.json({"status": "ok"}))
        self.route("GET", "/readyz", self._readyz)
        self.route("GET", "/status", self._status)
        self.route("POST", "/webhook/git", self._webhook)
        self.httpd = ThreadingHTTPServer((host, port), _handler_class(self))
        self.httpd.daemon_threads = True

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def route(self, method: str, prefix: str, handler: Handler) -> None:
        self.routes[(method, prefix)] = handler

    def start(self) -> None:
        threading.Thread(target=self.httpd.serve_forever, name="salam-http", daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def dispatch(self, method: str, path: str, headers: dict[str, str]) -> Response:
        path = path.split("?", 1)[0].rstrip("/") or "/"
        for (verb, prefix), handler in self.routes.items():
            if verb == method and (path == prefix or path.startswith(prefix + "/")):
                return handler(path, headers)
        return Response.json({"error": f"no route {method} {path}"}, 404)

    def _readyz(self, path: str, headers: dict[str, str]) -> Response:
        ready = self.controller.ready()
        return Response.json({"ready": ready}, 200 if ready else 503)

    def _status(self, path: str, headers: dict[str, str]) -> Response:
        statuses = {env: s.to_json() for env, s in self.controller.statuses().items()}
        env = path.removeprefix("/status").strip("/")
        if not env:
            return Response.json({"environments": statuses})
        if env not in statuses:
            return Response.json({"error": f"no environment {env}"}, 404)
        return Response.json(statuses[env])

    def _webhook(self, path: str, headers: dict[str, str]) -> Response:
        given = headers.get("authorization", "").removeprefix("Bearer ").strip()
        if self.token is not None and not hmac.compare_digest(given, self.token):
            return Response.json({"error": "missing or wrong token"}, 401)
        self.controller.fetch_now()
        return Response.json({"fetching": True}, 202)


def _handler_class(server: Server) -> type[BaseHTTPRequestHandler]:
    class RequestHandler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._respond("GET")

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(min(length, 1 << 20))  # the push payload is not needed
            self._respond("POST")

        def _respond(self, method: str) -> None:
            headers = {k.lower(): v for k, v in self.headers.items()}
            response = server.dispatch(method, self.path, headers)
            self.send_response(response.code)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            self.wfile.write(response.body)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # requests are not logged (probes would flood the log)

    return RequestHandler
