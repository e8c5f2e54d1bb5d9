"""The web UI's actions over HTTP: absent unless turned on (404), refused without the actions'
bearer token (401: the read token is not it), without the page's CSRF token or from another
origin (403) and in detect mode (409), while the pages stay open on loopback; an actions token
reference that does not resolve stops ``reconcile serve`` from starting; "sync now" on a real
controller (apply mode, self-heal off) applies a hand edit it otherwise only reports, and a pause
it cannot do answers with the CLI's message."""

from __future__ import annotations

import json
import re
import secrets
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reconciler.controller import policy
from reconciler.controller.loop import EnvironmentLoop, Target
from reconciler.controller.run import Controller
from reconciler.controller.server import Server, Tokens
from reconciler.controller.source import WorkTree
from tests.conftest import ROOT, run_reconcile
from tests.reconciler.controller.conftest import Site, crontab_site, repo  # noqa: F401

TOKEN = secrets.token_urlsafe(16)
BEARER = {"authorization": f"Bearer {TOKEN}"}
SYNC = "/env/dev/sync"
PAUSE = "/env/dev/job/payments/pause"


ACTING = Tokens(actions=TOKEN)


def server(tmp_path: Path, tokens: Tokens = ACTING, mode: str = "apply") -> Server:
    sync = policy.of("dev", {"sync": {"mode": mode}}, ())
    loop = EnvironmentLoop(Target(tmp_path, "dev"), WorkTree(tmp_path), sync, tmp_path / "state")
    made = Server(Controller([loop]), "127.0.0.1", 0, tokens)
    made.httpd.server_close()  # dispatch only: no socket needed
    return made


def csrf_of(page: str) -> str | None:
    found = re.search(r'<meta name="salam-csrf" content="([^"]+)">', page)
    return found.group(1) if found else None


def page_csrf(served: Server) -> str | None:
    page = served.dispatch("GET", "/env/dev", {})  # no token: the pages are open on loopback
    assert page.code == 200
    return csrf_of(page.body.decode())


def test_actions_are_absent_unless_turned_on(tmp_path: Path) -> None:
    off = server(tmp_path, Tokens())
    assert off.dispatch("POST", SYNC, BEARER).code == 404
    assert off.dispatch("POST", PAUSE, BEARER).code == 404
    assert page_csrf(off) is None


def test_actions_need_the_token_the_pages_csrf_token_and_this_origin(tmp_path: Path) -> None:
    served = server(tmp_path)
    csrf = page_csrf(served)
    assert csrf
    host = {"host": "127.0.0.1:8080"}
    good = {**BEARER, "x-salam-csrf": csrf, **host}
    assert served.dispatch("POST", SYNC, {"x-salam-csrf": csrf, **host}).code == 401
    wrong = {**good, "authorization": "Bearer nope"}
    assert served.dispatch("POST", PAUSE, wrong).code == 401
    assert served.dispatch("POST", SYNC, {**BEARER, **host}).code == 403
    forged = served.dispatch("POST", SYNC, {**good, "x-salam-csrf": "guessed"})
    assert forged.code == 403 and b"missing or wrong X-Salam-CSRF header" in forged.body
    other = served.dispatch("POST", SYNC, {**good, "origin": "http://evil.example"})
    assert other.code == 403 and b"another origin" in other.body
    same = served.dispatch("POST", SYNC, {**good, "origin": "http://127.0.0.1:8080"})
    assert (same.code, same.body) == (202, b'{\n  "queued": true\n}\n')
    early = served.dispatch("POST", PAUSE, good)
    assert early.code == 409 and b"not compared yet" in early.body
    for body in (b"[1]", b"not json", b'{"note": 3}'):
        malformed = served.dispatch("POST", PAUSE, good, body)
        assert malformed.code == 400
        assert json.loads(malformed.body)["error"] == 'the body is not {"note": "<text>"}'
    assert served.dispatch("POST", "/env/uat/sync", good).code == 404


def test_actions_are_refused_in_detect_mode(tmp_path: Path) -> None:
    served = server(tmp_path, mode="detect")
    headers = {**BEARER, "x-salam-csrf": page_csrf(served) or ""}
    for path in (SYNC, PAUSE):
        refused = served.dispatch("POST", path, headers)
        assert refused.code == 409 and b"detect mode" in refused.body
        assert b"set sync.mode: apply" in refused.body


def test_the_read_token_is_not_the_actions_token(tmp_path: Path) -> None:
    reading = secrets.token_urlsafe(16)
    served = server(tmp_path, Tokens(read=reading, actions=TOKEN))
    assert served.dispatch("GET", "/env/dev", {}).code == 401
    page = served.dispatch("GET", "/env/dev", {"authorization": f"Bearer {reading}"})
    csrf = csrf_of(page.body.decode()) or ""
    asked = {"x-salam-csrf": csrf, "authorization": f"Bearer {reading}"}
    assert served.dispatch("POST", SYNC, asked).code == 401
    assert served.dispatch("POST", SYNC, {**asked, **BEARER}).code == 202


def test_an_actions_token_that_does_not_resolve_stops_serve(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SALAM_TEST_NO_SUCH_TOKEN", raising=False)
    ref = "env:SALAM_TEST_NO_SUCH_TOKEN"
    result = run_reconcile("serve", "--env", "dev", "--root", str(ROOT), "--actions-token-ref", ref)
    assert result.exit_code == 1
    assert "SALAM_TEST_NO_SUCH_TOKEN" in result.output


@pytest.fixture
def guarded(crontab_site: Site, monkeypatch: pytest.MonkeyPatch) -> Iterator[Site]:  # noqa: F811
    monkeypatch.setenv("SALAM_TEST_UI_TOKEN", TOKEN)
    crontab_site.token = TOKEN
    yield crontab_site


def html(site: Site, path: str) -> str:
    request = urllib.request.Request(f"http://127.0.0.1:{site.port}{path}", headers=BEARER)
    with urllib.request.urlopen(request, timeout=5) as response:
        text: str = response.read().decode()
    return text


def test_sync_now_applies_a_hand_edit_with_self_heal_off(guarded: Site) -> None:
    site = guarded
    site.push("as it is")
    actions = ("--actions-token-ref", "env:SALAM_TEST_UI_TOKEN")
    site.start("sync.mode=apply", "sync.self_heal=false", "sync.interval=1h", extra=actions)
    site.wait(lambda s: s["sync_state"] == "synced", "the first apply")
    applied = site.crontab.read_text()
    edited = applied.replace("30 * * * *", "50 * * * *")  # hourly in Asia/Kolkata: :30 UTC
    assert edited != applied
    site.crontab.write_text(edited)
    code, _ = site.get("/webhook/git", "POST")  # a pass now, without asking to apply
    assert code == 202
    reported = site.wait(lambda s: s["sync_state"] == "out-of-sync", "the drift reported")
    assert "self_heal is off" in (reported["blocked"] or "")
    assert site.crontab.read_text() == edited

    csrf = csrf_of(html(site, "/env/dev"))
    assert csrf
    assert 'data-action="/env/dev/sync"' in html(site, "/env/dev")
    code, body = site.get(SYNC, "POST", {"X-Salam-CSRF": csrf})
    assert (code, body) == (202, {"queued": True})
    after: dict[str, Any] = site.wait(lambda s: s["sync_state"] == "synced", "the sync now")
    assert after["last_apply"]["outcome"] == "applied"
    assert site.crontab.read_text() == applied

    headers = {"X-Salam-CSRF": csrf}
    assert "data-action=" not in html(site, "/env/dev/job/subscriptions")  # no button to refuse
    code, body = site.get("/env/dev/job/subscriptions/pause", "POST", headers)
    assert code == 409 and "runs on crontab, which cannot hold a schedule paused" in body["error"]
    assert "schedule.paused: true" in body["hint"]
    code, body = site.get("/env/dev/job/nope/pause", "POST", headers)
    assert code == 404 and body["error"] == "no job nope in environment 'dev'"
    assert site.stop() == 0
