"""The web UI's actions, mounted by ``reconcile serve --actions-token-ref`` only (absent
otherwise: 404).

``POST /env/<env>/sync`` asks the environment's loop to apply at its next pass even with
self-heal off, and wakes it at once (:meth:`~reconciler.controller.run.Controller.sync_now`;
the change windows and a rollback pin still hold: the status says why it is ``blocked``): 202
``{"queued": true}``. ``POST /env/<env>/job/<job>/pause`` and ``…/resume`` run
:func:`reconciler.pausing.run` in the request thread — the CLI's engine, lock, policy and audit
(the record says ``via: ui``) — then wait (bounded) for the loop's next pass, so a reload shows
it: 200 with the outcome, else the CLI's message with a 4xx/5xx.

Checks, in order: the actions' bearer token (401; the read token, if one is set, is not
enough, and not needed), a forged request
(:func:`~reconciler.web.security.forgery_error`: 403), an environment in ``detect`` mode (409).
Every answer is JSON: ``{"error": …, "hint": …}`` when refused.
"""

from __future__ import annotations

import json
import time
from typing import Any

from ingestion.config.diagnostics import ConfigError
from ingestion.exitcodes import ExitCode
from ingestion.shared.httpserve import Handler, HttpServer, Request, Response
from reconciler import engine, lock, pausing
from reconciler.backends import base
from reconciler.controller import policy
from reconciler.controller.loop import EnvironmentLoop
from reconciler.controller.run import Controller
from reconciler.controller.status import Phase, failure
from reconciler.model import ApplyStatus
from reconciler.web import security

SETTLE = 20.0  # seconds a pause waits for the loop's next pass before answering anyway
NOTE_LIMIT = 200  # characters of a pause's note from the page
DETECT = (
    "detect mode: differences are reported, not applied; set sync.mode: apply in the "
    "environment's environment.yaml to allow actions"
)


PREFIXES = ("/env/",)  # the POST routes below: the read token's guard lets them through


def mount(server: HttpServer, controller: Controller, token: str, csrf: str) -> None:
    """The action routes on ``server``; each wants ``token``; ``csrf`` is what the pages carry."""
    server.route("POST", "/env", _handler(controller, token, csrf))


def _handler(controller: Controller, token: str, csrf: str) -> Handler:
    def handle(request: Request) -> Response:
        env, *rest = request.path.split("/")[2:] or [""]
        loop = controller.loops.get(env)
        refused = _refused(request, token, csrf, loop, env)
        if refused is not None:
            return refused
        assert loop is not None  # _refused answers 404 for an unknown environment
        if rest == ["sync"]:
            controller.sync_now(env)
            return Response.json({"queued": True}, 202)
        if len(rest) == 3 and rest[0] == "job" and rest[2] in {v.value for v in pausing.Verb}:
            note = _note(request.body)
            if note is None:
                return _error(400, 'the body is not {"note": "<text>"}', "send JSON, or nothing")
            asked = pausing.Request(pausing.Verb(rest[2]), rest[1], note=note, via="ui")
            return _pause(controller, loop, asked)
        return _error(404, f"no action {request.path}", "")

    return handle


def _refused(
    request: Request, token: str, csrf: str, loop: EnvironmentLoop | None, env: str
) -> Response | None:
    """The answer to an action that may not go on, in the order the checks are made."""
    if not security.bearer(request, token):
        return _error(401, "missing or wrong token", "actions need the actions bearer token")
    forged = security.forgery_error(request, csrf)
    if forged is not None:
        return _error(403, forged, "")
    if loop is None:
        return _error(404, f"no environment {env}", "")
    if loop.policy.mode is policy.Mode.DETECT:
        return _error(409, DETECT, "")
    return None


def _note(body: bytes) -> str | None:
    """The note a pause carries: ``{"note": "…"}`` (or no body: none), one line of at most
    :data:`NOTE_LIMIT` characters; None when the body is something else."""
    if not body.strip():
        return ""
    try:
        document = json.loads(body)
    except ValueError:
        return None
    note = document.get("note", "") if isinstance(document, dict) else None
    if not isinstance(note, str):
        return None
    return " ".join(note.split())[:NOTE_LIMIT]


def _pause(controller: Controller, loop: EnvironmentLoop, asked: pausing.Request) -> Response:
    if loop.snapshot is None:
        return _error(409, "not compared yet: the first pass is under way", "try again shortly")
    try:
        done = pausing.run(loop.options_now(), asked)
    except Exception as exc:  # every failure is an answer; the server goes on
        return _failed(exc)
    _settle(controller, loop)
    if done.applied is None:
        return Response.json({"outcome": "nothing to do", "message": done.note})
    answer = {"outcome": done.applied.status.value, "apply_id": done.applied.apply_id}
    if done.applied.status is not ApplyStatus.APPLIED:
        return Response.json({**answer, "error": f"apply {done.applied.status.value}"}, 500)
    return Response.json({**answer, "message": asked.said()})


def _failed(exc: Exception) -> Response:
    """The CLI's message for a failure, with the HTTP status that says what kind it is."""
    if isinstance(exc, pausing.Refused):
        return _error(404 if exc.code is ExitCode.USAGE else 409, str(exc), exc.hint)
    if isinstance(exc, engine.EngineError):
        return _error(409, str(exc), exc.hint)
    if isinstance(exc, lock.LockTimeout):
        return _error(409, str(exc), "another apply holds the lock: try again when it is done")
    if isinstance(exc, ConfigError):
        return _error(422, failure(exc), "fix the config (reconcile validate)")
    if isinstance(exc, base.BackendError):
        return _error(502, str(exc), "check the backend is reachable")
    return _error(500, failure(exc), "")


def _settle(controller: Controller, loop: EnvironmentLoop) -> None:
    """Wake the loop and wait (at most :data:`SETTLE`) for a pass that starts after now."""
    started = loop.status.attempts
    controller.fetch_now(loop.target.env)
    deadline = time.monotonic() + SETTLE
    while time.monotonic() < deadline:
        status = loop.status
        if status.attempts > started and status.phase is Phase.IDLE:
            return
        time.sleep(0.1)


def _error(code: int, message: str, hint: str) -> Response:
    document: dict[str, Any] = {"error": message} | ({"hint": hint} if hint else {})
    return Response.json(document, code)
