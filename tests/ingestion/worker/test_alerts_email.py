"""Failure alerts by e-mail, against a real SMTP server on the loopback (:mod:`smtp_server`).

``alerts.send`` as the alert activity calls it, then once end to end: a schedule whose command
keeps failing mails its on-call address once, after the last attempt, through the worker.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import socket
import traceback
from collections.abc import Iterator
from typing import Any

import pytest
from temporalio.client import Client, WorkflowFailureError

from ingestion.config import schema
from ingestion.worker import activities, alerts, service
from tests.ingestion.worker.conftest import WorkerProject, serving
from tests.ingestion.worker.smtp_server import SmtpServer
from tests.ingestion.worker.test_worker import PYTHON, apply, trigger
from tests.reconciler.backends.temporal.server import write_job

PASSWORD = "pa55-w0rd-never-shown"
RECIPIENTS = ["oncall@example.org", "data-team@example.org"]


def failure(**alert_channels: Any) -> dict[str, Any]:
    """An alert request as ``IngestionWorkflow`` sends it after the last failed attempt."""
    plan = {
        "job": "orders",
        "environment": "dev",
        "schedule_id": "salam-dev-orders",
        "alerts": alert_channels,
        "bookkeeping": {"digest": "d1g3st"},
    }
    return {
        "plan": plan,
        "error": "command exited with code 7",
        "summary": {"exit_code": 7, "duration_seconds": 0.1, "events": {}},
        "attempt": 3,
        "workflow_id": "salam-dev-orders-2024",
        "run_id": "run-0123",
    }


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture
def auth_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpServer]:
    """A server that wants AUTH; the password is in $SALAM_TEST_SMTP_PASSWORD."""
    monkeypatch.setenv("SALAM_TEST_SMTP_PASSWORD", PASSWORD)
    with SmtpServer(credentials=("alerts", PASSWORD)) as server:
        yield server


def smtp_settings(port: int, **more: Any) -> dict[str, Any]:
    return {"host": "127.0.0.1", "port": port, "sender": "salam@example.org", **more}


def free_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def assert_no_password(*texts: str) -> None:
    for text in texts:
        assert PASSWORD not in text


def test_final_failure_mails_every_recipient(smtp_server: SmtpServer) -> None:
    result = alerts.send(failure(email=RECIPIENTS), smtp_settings(smtp_server.port))

    assert result == {"sent": ["email"], "skipped": []}
    (received,) = smtp_server.messages
    assert received.sender == "salam@example.org"
    assert sorted(received.recipients) == sorted(RECIPIENTS)
    message = received.message()
    assert message["From"] == "salam@example.org"
    assert sorted(message["To"].addresses[i].addr_spec for i in range(2)) == sorted(RECIPIENTS)
    assert "dev/orders" in message["Subject"] and "failed" in message["Subject"]
    document = json.loads(message.get_content())
    assert document["job"] == "orders" and document["environment"] == "dev"
    assert document["run_id"] == "run-0123" and document["attempt"] == 3
    assert document["summary"]["exit_code"] == 7
    assert document["error"] == "command exited with code 7"


def test_defaults_are_the_schemas(smtp_server: SmtpServer) -> None:
    smtp = schema.load(schema.ENVIRONMENT)["properties"]["smtp"]
    properties = smtp["properties"]
    assert sorted(properties) == ["host", "password_ref", "port", "sender", "starttls", "username"]
    assert smtp["required"] == ["host"]
    assert properties["port"]["default"] == 25 and properties["starttls"]["default"] is False

    alerts.send(failure(email=RECIPIENTS), {"host": "127.0.0.1", "port": smtp_server.port})

    (received,) = smtp_server.messages
    assert received.message()["From"] == properties["sender"]["default"]


def test_login_with_password_reference_never_shows_the_password(
    auth_server: SmtpServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    smtp = smtp_settings(
        auth_server.port, username="alerts", password_ref="env:SALAM_TEST_SMTP_PASSWORD"
    )

    result = alerts.send(failure(email=RECIPIENTS), smtp)

    assert result == {"sent": ["email"], "skipped": []}
    assert auth_server.logins == [("alerts", PASSWORD)]
    (received,) = auth_server.messages
    assert_no_password(received.data.decode(), caplog.text, json.dumps(result))


def test_wrong_password_fails_clearly_without_showing_it(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("SALAM_TEST_SMTP_PASSWORD", PASSWORD)
    caplog.set_level(logging.DEBUG)
    with SmtpServer(credentials=("alerts", "the-right-one")) as server:
        smtp = smtp_settings(
            server.port, username="alerts", password_ref="env:SALAM_TEST_SMTP_PASSWORD"
        )
        with pytest.raises(RuntimeError) as raised:
            alerts.send(failure(email=RECIPIENTS), smtp)

    message = str(raised.value)
    assert f"alert e-mail via 127.0.0.1:{server.port} failed" in message
    assert "SMTPAuthenticationError" in message and "535" in message
    assert not server.messages
    assert_no_password(message, "".join(traceback.format_exception(raised.value)), caplog.text)


def test_unresolvable_password_reference_skips_the_email(
    smtp_server: SmtpServer, caplog: pytest.LogCaptureFixture
) -> None:
    smtp = smtp_settings(smtp_server.port, username="alerts", password_ref="env:SALAM_TEST_UNSET")

    result = alerts.send(failure(email=RECIPIENTS), smtp)

    assert result == {"sent": [], "skipped": ["email"]}
    assert not smtp_server.transcript, "connected although the password is missing"
    assert "SALAM_TEST_UNSET" in caplog.text


def test_no_smtp_settings_skip_the_email() -> None:
    assert alerts.send(failure(email=RECIPIENTS), None) == {"sent": [], "skipped": ["email"]}


def test_unreachable_server_is_reported_and_the_webhook_still_fires(
    webhook: list[dict[str, Any]], caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()
    request = failure(email=RECIPIENTS, webhook="env:SALAM_TEST_WEBHOOK")

    with pytest.raises(RuntimeError) as raised:
        alerts.send(request, smtp_settings(port))

    assert str(raised.value).startswith(f"alert e-mail via 127.0.0.1:{port} failed")
    assert "ConnectionRefusedError" in str(raised.value)
    assert "(alerts sent: webhook)" in str(raised.value)
    (posted,) = webhook
    assert posted["run_id"] == "run-0123"
    assert "ConnectionRefusedError" in caplog.text


def test_server_refusing_the_connection_is_reported() -> None:
    with (
        SmtpServer(greeting="554 5.3.2 not accepting mail") as server,
        pytest.raises(RuntimeError) as raised,
    ):
        alerts.send(failure(email=RECIPIENTS), smtp_settings(server.port))

    assert "SMTPConnectError" in str(raised.value) and "554" in str(raised.value)


def test_failing_webhook_does_not_stop_the_email(
    smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SALAM_TEST_WEBHOOK", f"http://127.0.0.1:{free_port()}/hook?token=t0ps3cret")
    request = failure(email=RECIPIENTS, webhook="env:SALAM_TEST_WEBHOOK")

    with pytest.raises(RuntimeError) as raised:
        alerts.send(request, smtp_settings(smtp_server.port))

    assert str(raised.value) == (
        "alert webhook failed: unreachable: Connection refused (alerts sent: email)"
    )
    assert len(smtp_server.messages) == 1


def test_starttls_the_server_does_not_offer_is_a_clear_error(auth_server: SmtpServer) -> None:
    smtp = smtp_settings(
        auth_server.port,
        starttls=True,
        username="alerts",
        password_ref="env:SALAM_TEST_SMTP_PASSWORD",
    )

    with pytest.raises(RuntimeError) as raised:
        alerts.send(failure(email=RECIPIENTS), smtp)

    assert "STARTTLS extension not supported by server" in str(raised.value)
    assert not auth_server.logins, "logged in over a connection that was never encrypted"
    assert not auth_server.messages


def failing_orders_job(
    project: WorkerProject,
    smtp: dict[str, Any],
    policy: dict[str, Any],
    channels: dict[str, Any] | None = None,
) -> activities.Settings:
    """Dev with ``smtp``, an ``orders`` job that always exits 7 and mails on-call, applied;
    returns the worker settings the environment gives, with a fast heartbeat."""
    environment_file = project.root / "environments" / "dev" / "environment.yaml"
    settings = json.loads(environment_file.read_text())
    settings["smtp"] = smtp
    environment_file.write_text(json.dumps(settings))
    write_job(
        project.root,
        "dev",
        "orders",
        command=[PYTHON, "-c", "raise SystemExit(7)"],
        retry_policy=policy,
        alerts=channels or {"email": ["oncall@example.org"]},
    )
    apply(project)
    return dataclasses.replace(
        service.settings_of(project.load()), heartbeat_every=0.5, kill_grace=2.0
    )


async def _failure_of(project: WorkerProject) -> tuple[WorkflowFailureError, str]:
    """Trigger ``orders``, wait for its last run to fail; the failure and that run's id."""
    handle = await trigger(project, "salam-dev-orders")
    with pytest.raises(WorkflowFailureError) as raised:
        await handle.result(follow_runs=True)
    client = await Client.connect(project.server.address, namespace=project.namespace)
    return raised.value, str((await client.get_workflow_handle(handle.id).describe()).run_id)


@pytest.mark.integration
def test_worker_mails_once_after_the_last_attempt(
    worker_project: WorkerProject, auth_server: SmtpServer
) -> None:
    smtp = smtp_settings(
        auth_server.port, username="alerts", password_ref="env:SALAM_TEST_SMTP_PASSWORD"
    )
    policy = {"initial_interval_seconds": 1, "maximum_attempts": 2, "backoff_coefficient": 1.0}
    settings = failing_orders_job(worker_project, smtp, policy)

    with serving(worker_project, settings):
        _, run_id = asyncio.run(_failure_of(worker_project))

    (received,) = auth_server.messages
    assert received.recipients == ["oncall@example.org"]
    document = json.loads(received.message().get_content())
    assert document["run_id"] == run_id and document["attempt"] == 2
    assert document["summary"]["exit_code"] == 7
    assert_no_password(received.data.decode())


@pytest.mark.integration
def test_an_undeliverable_alert_does_not_hide_the_jobs_failure(
    worker_project: WorkerProject,
) -> None:
    smtp = smtp_settings(free_port())  # nothing listens: every alert attempt fails
    settings = failing_orders_job(worker_project, smtp, {"maximum_attempts": 1})

    with serving(worker_project, settings):
        failure, _ = asyncio.run(_failure_of(worker_project))

    assert "job 'orders' failed" in str(failure.cause)
    assert "e-mail" not in str(failure.cause)


@pytest.mark.integration
def test_a_retried_alert_does_not_post_the_webhook_again(
    worker_project: WorkerProject, webhook: list[dict[str, Any]]
) -> None:
    smtp = smtp_settings(free_port())  # the e-mail fails on every attempt of the alert activity
    channels = {"email": ["oncall@example.org"], "webhook": "env:SALAM_TEST_WEBHOOK"}
    settings = failing_orders_job(worker_project, smtp, {"maximum_attempts": 1}, channels)

    with serving(worker_project, settings):
        asyncio.run(_failure_of(worker_project))

    assert len(webhook) == 1
    assert webhook[0]["job"] == "orders"
