"""A stand-in for the authenticating proxy in front of ``reconcile serve --token-ref``: it adds
the bearer token to what a reader's browser GETs (pages, scripts, ``/status``) and passes every
other request (an action's ``POST``) as the browser sent it, Host header included, so an action
is refused unless the person typed the token. Served on a free loopback port, in a thread."""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

HOP = {"connection", "transfer-encoding", "keep-alive"}


class ReadingProxy:
    def __init__(self, upstream: str, token: str) -> None:
        self.upstream, self.token = upstream, token
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def forward(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Any:
        if method == "GET":
            headers = {**headers, "Authorization": f"Bearer {self.token}"}
        request = urllib.request.Request(
            self.upstream + path, data=body or None, headers=headers, method=method
        )
        try:
            return urllib.request.urlopen(request, timeout=30)
        except urllib.error.HTTPError as exc:
            return exc


def _handler(proxy: ReadingProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._relay("GET")

        def do_POST(self) -> None:
            self._relay("POST", self.rfile.read(int(self.headers.get("Content-Length") or 0)))

        def _relay(self, method: str, body: bytes = b"") -> None:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
            with proxy.forward(method, self.path, headers, body) as answer:
                payload = answer.read()
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    if name.lower() not in HOP | {"content-length"}:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
