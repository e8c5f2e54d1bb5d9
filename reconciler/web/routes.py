"""Mount the web UI and its read-only JSON on an HTTP server (``reconcile serve`` or ``ui``).

``GET /`` overview, ``/env/<env>`` environment, ``/env/<env>/job/<job>`` job,
``/env/<env>/history`` audit timeline, ``/compare?from=E&to=F`` two environments' plans
compared (``&format=json``: the same JSON as ``reconcile compare --output json``; only
environments of the project are compared), ``/static/ui.css|ui.js|favicon.svg``; ``GET /status`` and
``/status/<env>`` are the JSON of the same status model the pages render. Unknown environments
and jobs are an HTML 404. The security headers and the token guard
(:mod:`reconciler.web.security`) are set on the server, so they cover every route.
"""

from __future__ import annotations

from importlib import resources

from ingestion.config import loader
from ingestion.config.diagnostics import ConfigError
from ingestion.shared.httpserve import Handler, HttpServer, Request, Response
from reconciler.controller.status import failure
from reconciler.promotion import compare as comparison
from reconciler.web import compare, environment, history, job, overview, security
from reconciler.web.html import el, link, page
from reconciler.web.views import Views

STATIC = {
    "ui.css": "text/css; charset=utf-8",
    "ui.js": "text/javascript; charset=utf-8",
    "favicon.svg": "image/svg+xml",
}


def mount(
    server: HttpServer,
    views: Views,
    token: str | None = None,
    open_paths: tuple[str, ...] = (),
    own_token: tuple[str, ...] = (),
) -> None:
    """The pages and ``/status`` on ``server``; with ``token``, every route but the probes,
    ``open_paths`` and the POSTs under ``own_token`` (which check a token of their own) needs
    it."""
    server.headers = security.HEADERS
    server.guard = security.guard(token, security.OPEN + open_paths, own_token)
    server.route("GET", "/status", status(views))
    server.route("GET", "/static", _static)
    server.route("GET", "/env", _pages(views))
    server.route("GET", "/compare", _compare(views))
    server.route("GET", "/", lambda request: Response.html(_overview(views)))


def _overview(views: Views) -> str:
    return overview.render(_all(views), compare.link_to(loader.known_environments(views.root())))


def status(views: Views) -> Handler:
    """``/status`` (every environment) and ``/status/<env>``: the status model as JSON."""

    def handle(request: Request) -> Response:
        env = request.path.removeprefix("/status").strip("/")
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


def _pages(views: Views) -> Handler:
    def handle(request: Request) -> Response:
        path = request.path
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


def _compare(views: Views) -> Handler:
    """``/compare``: the form, the comparison, or the error of an environment that fails to load."""

    def handle(request: Request) -> Response:
        known = loader.known_environments(views.root())
        source, target = request.query.get("from", ""), request.query.get("to", "")
        if not source or not target:
            return Response.html(compare.chooser(known))
        if source not in known or target not in known:
            return _not_found(request.path)
        try:
            jobs = comparison.between(views.root(), source, target)
        except ConfigError as exc:
            return Response.html(compare.failed(known, source, target, failure(exc)), 422)
        if request.query.get("format") == "json":
            return Response.json(comparison.document(source, target, jobs))
        return Response.html(compare.render(known, source, target, jobs))

    return handle


def _static(request: Request) -> Response:
    name = request.path.removeprefix("/static/")
    if name not in STATIC:
        return _not_found(request.path)
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
