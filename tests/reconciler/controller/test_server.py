"""The HTTP layer on its own: routes, readiness, the webhook's bearer token, unknown paths."""

from __future__ import annotations

import secrets
from pathlib import Path

from ingestion.shared.httpserve import Request
from reconciler.controller import policy
from reconciler.controller.loop import EnvironmentLoop, Target
from reconciler.controller.run import Controller
from reconciler.controller.server import Response, Server, Tokens
from reconciler.controller.source import WorkTree


def _server(tmp_path: Path, token: str | None = None) -> Server:
    sync = policy.of("dev", {}, ())
    loop = EnvironmentLoop(Target(tmp_path, "dev"), WorkTree(tmp_path), sync, tmp_path / "state")
    server = Server(Controller([loop]), "127.0.0.1", 0, Tokens(webhook=token))
    server.httpd.server_close()  # dispatch only: no socket needed
    return server


def test_not_ready_before_a_first_pass_and_status_per_environment(tmp_path: Path) -> None:
    server = _server(tmp_path)
    assert server.dispatch("GET", "/healthz", {}).code == 200
    assert server.dispatch("GET", "/readyz", {}).code == 503
    status = server.dispatch("GET", "/status/dev?x=1", {})
    assert status.code == 200 and b'"sync_state": "unknown"' in status.body
    assert server.dispatch("GET", "/status/uat", {}).code == 404
    assert server.dispatch("GET", "/nowhere", {}).code == 404
    assert server.dispatch("GET", "/webhook/git", {}).code == 404  # POST only


def test_the_webhook_wants_the_token_when_one_is_set(tmp_path: Path) -> None:
    token = secrets.token_hex(8)
    server = _server(tmp_path, token=token)
    assert server.dispatch("POST", "/webhook/git", {}).code == 401
    wrong = {"authorization": "Bearer nope"}
    assert server.dispatch("POST", "/webhook/git", wrong).code == 401
    right = {"authorization": f"Bearer {token}"}
    assert server.dispatch("POST", "/webhook/git", right).code == 202


def test_routes_can_be_added(tmp_path: Path) -> None:
    server = _server(tmp_path)
    server.route("GET", "/metrics", lambda request: Response(200, b"up 1\n", "text/plain"))
    assert server.dispatch("GET", "/metrics", {}).body == b"up 1\n"


def test_handlers_see_the_query_string_and_the_form_body(tmp_path: Path) -> None:
    server = _server(tmp_path)
    seen: list[Request] = []

    def echo(request: Request) -> Response:
        seen.append(request)
        return Response.json({})

    server.route("POST", "/echo", echo)
    form = {"content-type": "application/x-www-form-urlencoded"}
    server.dispatch("POST", "/echo/?from=uat&to=prod%20x", form, b"a=1&b=two+words")
    assert seen[0].path == "/echo" and seen[0].query == {"from": "uat", "to": "prod x"}
    assert seen[0].form() == {"a": "1", "b": "two words"}
