"""The one JSON webhook poster, against a real HTTP server on the loopback: the status on 2xx,
and errors that say what went wrong without ever holding the URL (it embeds a token)."""

from __future__ import annotations

import json
import socket
import threading
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest

from ingestion.shared import webhook

TOKEN = "t0ps3cret-token"
AGENT = "salam-test"


@dataclass
class Receiver:
    """What the loopback server received, and the status it answers with."""

    port: int
    status: int = 204
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/{TOKEN}?token={TOKEN}"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(0)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers["Content-Length"]))
            state.requests.append((dict(self.headers), raw))
            self.send_response(state.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield state
    server.shutdown()
    server.server_close()


def free_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def failure(url: str, document: dict[str, Any] | str = "{}") -> webhook.WebhookError:
    with pytest.raises(webhook.WebhookError) as raised:
        webhook.post_json(url, document, timeout=5, user_agent=AGENT)
    shown = "".join(traceback.format_exception(raised.value))
    assert TOKEN not in shown and "127.0.0.1" not in shown
    return raised.value


def test_2xx_returns_the_status_and_posts_sorted_json(receiver: Receiver) -> None:
    status = webhook.post_json(receiver.url, {"b": 1, "a": [2]}, timeout=5, user_agent=AGENT)
    assert status == 204
    ((headers, raw),) = receiver.requests
    assert raw == b'{"a": [2], "b": 1}'
    assert headers["Content-Type"] == "application/json"
    assert headers["User-Agent"] == AGENT


def test_a_preserialised_line_is_sent_as_is(receiver: Receiver) -> None:
    line = json.dumps({"z": 1, "a": "***"})
    receiver.status = 200
    assert webhook.post_json(receiver.url, line, timeout=5, user_agent=AGENT) == 200
    assert receiver.requests[0][1] == line.encode()


def test_500_raises_with_the_status_and_no_url(receiver: Receiver) -> None:
    receiver.status = 500
    error = failure(receiver.url)
    assert str(error) == "answered HTTP 500" and error.status == 500
    assert len(receiver.requests) == 1


def test_connection_refused_is_unreachable_without_the_url() -> None:
    error = failure(f"http://127.0.0.1:{free_port()}/hooks/{TOKEN}")
    assert str(error) == "unreachable: Connection refused" and error.status is None


def test_a_receiver_that_never_answers_times_out() -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        with pytest.raises(webhook.WebhookError) as raised:
            webhook.post_json(
                f"http://127.0.0.1:{silent.getsockname()[1]}/hooks/{TOKEN}",
                {},
                timeout=0.5,
                user_agent=AGENT,
            )
    assert str(raised.value) == "unreachable: timed out"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (f"file:///tmp/{TOKEN}", "is not an http(s) URL"),
        (f"{TOKEN}", "is not an http(s) URL"),
        (f"http://127.0.0.1:{TOKEN}/", "is not a usable URL (InvalidURL)"),
    ],
)
def test_unusable_urls_are_refused_without_being_echoed(url: str, message: str) -> None:
    assert str(failure(url)) == message
