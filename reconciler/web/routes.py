"""Mount the web UI and its read-only JSON on an HTTP server (``reconcile serve`` or ``ui``).

``GET /`` overview, ``/env/<env>`` environment, ``/env/<env>/job/<job>`` job,
``/env/<env>/history`` audit timeline, ``/static/ui.css|ui.js|favicon.svg``; ``GET /status`` and
``/status/<env>`` are the JSON of the same status model the pages render. Unknown environments
and jobs are an HTML 404. The security headers and the token guard
(:mod:`reconciler.web.security`) are set on the server, so they cover every route.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources

from ingestion.shared.httpserve import HttpServer, Response
from reconciler.web import environment, history, job, overview, security
from reconciler.web.html import el, link, page
from reconciler.web.views import Views

STATIC = {
    "ui.css": "text/css; charset=utf-8",
    "ui.js": "text/javascript; charset=utf-8",
    "favicon.svg": "image/svg+xml",
}


def mount(
    server: HttpServer, views: Views, token: str | None = None, open_paths: tuple[str, ...] = ()
) -> None:
    """The pages and ``/status`` on ``server``; with ``token``, every route but the probes and
    ``open_paths`` needs it."""
    server.headers = security.HEADERS
    server.guard = security.guard(token, security.OPEN + open_paths)
    server.route("GET", "/status", status(views))
    server.route("GET", "/static", _static)
    server.route("GET", "/env", _pages(views))
    server.route("GET", "/", lambda path, headers: Response.html(overview.render(_all(views))))


def status(views: Views) -> Callable[[str, dict[str, str]], Response]:
    """``/status`` (every environment) and ``/status/<env>``: the status model as JSON."""

    def handle(path: str, headers: dict[str, str]) -> Response:
        env = path.removeprefix("/status").strip("/")
        if not env:
            return Response.json(
                {"environments": {v.status.environment: v.status.to_json() for v in _all(views)}}
            )
        if env not in views.environments():
            return Response.json({"error": f"no environment {env}"}, 404)
        return Response.json(views.view(env).status.to_json())

    return handle


def _all(views: Views) -> list:
    return [views.view(env) for env in views.environments()]


def _pages(views: Views) -> Callable[[str, dict[str, str]], Response]:
    def handle(path: str, headers: dict[str, str]) -> Response:
        parts = path.split("/")[2:]  # "", "env", <env>, …
        if not parts or parts[0] not in views.environments():
            return _not_found(path)
        view = views.view(parts[0])
        rest = parts[1:]
        if not rest:
            return Response.html(environment.render(view))
        if rest == ["history"]:
            return Response.html(history.render(view))
        if len(rest) == 2 and rest[0] == "job":
            rendered = job.render(view, rest[1])
            return Response.html(rendered) if rendered else _not_found(path)
        return _not_found(path)

    return handle


def _static(path: str, headers: dict[str, str]) -> Response:
    name = path.removeprefix("/static/")
    if name not in STATIC:
        return _not_found(path)
    body = resources.files("reconciler.web").joinpath("static", name).read_bytes()
    return Response(200, body, STATIC[name])


def _not_found(path: str) -> Response:
    return Response.html(
        page(
            "Not found",
            (),
            el("h1", "Not found"),
            el("p", f"Nothing at {path}. "),
            link("/", "All environments"),
        ),
        404,
    )
