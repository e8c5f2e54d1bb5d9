"""The controller's HTTP endpoint (loopback by default): health, readiness, status, webhook.

``GET /healthz`` is 200 while the process serves; ``GET /readyz`` is 200 once every environment
has finished a first pass (503 before); ``GET /status`` is the JSON status of every environment,
``GET /status/<env>`` of one; ``GET /metrics`` is every environment's status in the Prometheus
text format (:mod:`reconciler.controller.metrics`); ``POST /webhook/git`` makes the controller
fetch at once (with a webhook token, only with the header ``Authorization: Bearer <token>``).
``/status`` and the web UI's pages (``/``, ``/env/…``, :mod:`reconciler.web.routes`) read the
loops' status and last comparison; with a read token, every route but the probes, the webhook
and the actions needs ``Authorization: Bearer <read token>``. With an actions token
(``reconcile serve --actions-token-ref``) the web UI's "sync now", "pause" and "resume" are
mounted too (:mod:`reconciler.web.actions`: each needs that token, even on loopback), and the
pages carry their CSRF token. Routes are a table of
``(method, path prefix) → handler`` (:meth:`Server.route`). The HTTP plumbing is
:mod:`ingestion.shared.httpserve` (shared with the worker), one thread per request, in a daemon
thread beside the loop.
"""

from __future__ import annotations

from dataclasses import dataclass

from ingestion.shared.httpserve import Handler, HttpServer, Request, Response
from reconciler.controller import metrics
from reconciler.controller.run import Controller
from reconciler.web import actions as web_actions
from reconciler.web import routes, security, views

__all__ = ["Handler", "Response", "Server", "Tokens"]


@dataclass(frozen=True)
class Tokens:
    """The bearer tokens the endpoint wants, each None when not set: the git webhook's, every
    read's (the pages, /status, /metrics), and the web UI actions' (None: no actions)."""

    webhook: str | None = None
    read: str | None = None
    actions: str | None = None


class Server(HttpServer):
    def __init__(self, controller: Controller, host: str, port: int, tokens: Tokens = Tokens()):
        super().__init__(host, port)
        self.controller, self.token = controller, tokens.webhook
        self.route("GET", "/healthz", lambda request: Response.json({"status": "ok"}))
        self.route("GET", "/readyz", self._readyz)
        self.route("POST", "/webhook/git", self._webhook)
        self.route("GET", "/metrics", self._metrics)
        csrf = security.csrf_token() if tokens.actions else None
        shown = views.ControllerViews(controller, csrf)
        acting = web_actions.PREFIXES if tokens.actions else ()
        routes.mount(self, shown, tokens.read, ("/webhook/git",), acting)
        if tokens.actions is not None and csrf is not None:
            web_actions.mount(self, controller, tokens.actions, csrf)

    def _readyz(self, request: Request) -> Response:
        ready = self.controller.ready()
        return Response.json({"ready": ready}, 200 if ready else 503)

    def _metrics(self, request: Request) -> Response:
        return Response.metrics(metrics.render(self.controller.statuses()))

    def _webhook(self, request: Request) -> Response:
        if self.token is not None and not security.bearer(request, self.token):
            return Response.json({"error": "missing or wrong token"}, 401)
        self.controller.fetch_now()
        return Response.json({"fetching": True}, 202)
