"""The controller's alerts, as a user notices them: real passes of the dev loop on a copy of
dev (the crontab file target), a real loopback webhook receiver and SMTP server. A failed run
alerts once, stays quiet while it is still failed, also after a restart, and resolves once
after a success; a missed run alerts as lag; no secret reaches a message, a log or the state."""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from reconciler.controller import alerting
from reconciler.controller.loop import EnvironmentLoop
from reconciler.controller.run import Controller
from reconciler.controller.server import Server
from tests.ingestion.worker.conftest import WEBHOOK_TOKEN as TOKEN  # in the receiver's URL
from tests.ingestion.worker.conftest import webhook  # noqa: F401
from tests.ingestion.worker.smtp_server import SmtpServer
from tests.reconciler.controller.alerting_helpers import loop, run

# made per run, so no credential-looking literal sits in the tree; asserted never to leak
PASSWORD = secrets.token_hex(12)


def _seen(received: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    return [(m["event"], m["kind"], m["subject"]) for m in received]


def _assert_served(controller: EnvironmentLoop, kind: str) -> None:
    """``/status/dev`` lists the open alert; ``/metrics`` counts it under its kind."""
    server = Server(Controller([controller]), "127.0.0.1", 0)
    server.httpd.server_close()  # dispatch only
    status = json.loads(server.dispatch("GET", "/status/dev", {}).body)
    assert [(a["kind"], a["subject"]) for a in status["alerts"]] == [(kind, "subscriptions")]
    metrics = server.dispatch("GET", "/metrics", {}).body.decode()
    assert f'salam_alerts_open{{environment="dev",kind="{kind}"}} 1' in metrics
    assert 'salam_alerts_open{environment="dev",kind="drift"} 0' in metrics


def test_a_failed_run_alerts_once_stays_quiet_across_a_restart_and_resolves_once(
    project: Callable[..., Path],
    webhook: list[dict[str, Any]],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    root = project("dev")
    monkeypatch.setenv("SALAM_TEST_SMTP_PASSWORD", PASSWORD)
    with SmtpServer(credentials=("salam", PASSWORD)) as smtp:
        mail = (
            "sync.mode=apply",
            "smtp.host=127.0.0.1",
            f"smtp.port={smtp.port}",
            "smtp.username=salam",
            "smtp.password_ref=env:SALAM_TEST_SMTP_PASSWORD",
        )
        first = loop(root, *mail)
        first.step()
        assert webhook == [] and first.status.alerts == ()  # applied, nothing wrong

        run(root, "subscriptions", "FAIL")
        first.step()
        first.step()
        opened = ("alert.opened", "ingestion-failed", "subscriptions")
        assert _seen(webhook) == [opened]
        assert webhook[0]["text"].startswith(":rotating_light: [salam dev] opened")
        assert [m.message()["Subject"] for m in smtp.messages] == [
            "[salam] dev: opened ingestion-failed subscriptions"
        ]

        restarted = loop(root, *mail)  # a new controller on the same state directory
        assert [a.key for a in restarted.status.alerts] == ["dev/ingestion-failed/subscriptions"]
        restarted.step()
        _assert_served(restarted, "ingestion-failed")
        assert _seen(webhook) == [opened] and len(smtp.messages) == 1

        run(root, "subscriptions", "COMPLETE")
        restarted.step()
        restarted.step()
        assert _seen(webhook) == [opened, ("alert.resolved", "ingestion-failed", "subscriptions")]
        assert len(smtp.messages) == 2 and restarted.status.alerts == ()

    state = (restarted.state_dir / alerting.STATE_FILE).read_text()
    shown = [json.dumps(webhook), state, caplog.text, *(m.data.decode() for m in smtp.messages)]
    assert not [text for text in shown if PASSWORD in text or TOKEN in text]


def test_a_missed_run_opens_a_lag_alert_until_a_run_starts(
    project: Callable[..., Path],
    webhook: list[dict[str, Any]],  # noqa: F811
) -> None:
    root = project("dev")
    due = datetime.now(UTC) - timedelta(minutes=10)  # today's fire time passed 10 minutes ago
    path = root / "environments/dev/jobs/subscriptions.yaml"
    text = path.read_text().replace('"0 * * * *"', f'"{due.minute} {due.hour} * * *"')
    path.write_text(text.replace("timezone: Asia/Kolkata", "timezone: UTC"))
    run(root, "subscriptions", "COMPLETE", at=due - timedelta(days=1))  # yesterday's ran

    controller = loop(root, "sync.mode=apply")
    controller.step()
    controller.step()
    assert _seen(webhook) == [("alert.opened", "schedule-late", "subscriptions")]
    assert "no run started for" in webhook[0]["summary"]
    lag = next(s for s in controller.status.schedules if s.job == "subscriptions").lag_seconds
    assert lag is not None and lag >= 600

    run(root, "subscriptions")  # the run starts, late
    controller.step()
    assert _seen(webhook)[1:] == [("alert.resolved", "schedule-late", "subscriptions")]


def test_an_alert_the_receiver_refused_is_sent_on_the_next_pass(
    project: Callable[..., Path],
    webhook: list[dict[str, Any]],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = project("dev")
    controller = loop(root, "sync.mode=apply")
    controller.step()
    run(root, "subscriptions", "FAIL")
    url = "http://127.0.0.1:9/closed"  # discard port: nothing listens
    with monkeypatch.context() as down:
        down.setenv("SALAM_TEST_WEBHOOK", url)
        controller.step()
    assert webhook == [] and controller.status.alerts == ()
    controller.step()
    assert _seen(webhook) == [("alert.opened", "ingestion-failed", "subscriptions")]
