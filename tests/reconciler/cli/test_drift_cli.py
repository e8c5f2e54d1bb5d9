"""``reconcile drift`` on the in-memory backend: exit codes, JSON, the metrics file (read with
Prometheus' own parser) and the webhook (received by a loopback HTTP server run here)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from reconciler import engine, lock
from reconciler.backends.memory import Store
from reconciler.model import ResourceKey
from tests.conftest import run_reconcile
from tests.reconciler.engine import conftest as memory_fixtures

store = memory_fixtures.store  # every mode routed to a fresh in-memory backend
SECRET = "s3cr3t-t0ken-4f9a"


@pytest.fixture
def dev(project: Callable[..., Path], store: Store) -> Path:
    """A dev project, applied: live equals config."""
    root = project("dev")
    with engine.prepare(engine.ReconcileOptions(root=root, env="dev"), for_apply=True) as current:
        assert engine.apply(current).status == "applied"
    return root


class Receiver:
    """A loopback HTTP server that records POSTs and answers with ``status``."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        self.status = 204
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                receiver.requests.append((self.path, dict(self.headers), self.rfile.read(length)))
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}/hooks/{SECRET}"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    made = Receiver()
    made.thread.start()
    try:
        yield made
    finally:
        made.server.shutdown()
        made.server.server_close()
        made.thread.join(timeout=10)


def drift(root: Path, *args: str):  # type: ignore[no-untyped-def]
    return run_reconcile("drift", "--env", "dev", "--root", str(root), *args)


def key(name: str) -> ResourceKey:
    return ResourceKey("memory", "dev", name)


def make_drift(store: Store, root: Path) -> None:
    """One of each kind but foreign: modified, missing, orphan, paused."""
    live = store.resources[key("ingest_invoices")]
    store.resources[live.key] = replace(live, spec={**live.spec, "command": ["by", "hand"]})
    del store.resources[key("salam-dev-payments")]
    (root / "environments/dev/jobs/usage_records.yaml").unlink()
    (paused,) = [r for r in store.resources.values() if r.job == "subscriptions"]
    store.resources[paused.key] = replace(paused, paused=True)


def add_settings(root: Path, text: str) -> None:
    settings = root / "environments/dev/environment.yaml"
    settings.write_text(settings.read_text() + text)


def metrics_of(path: Path) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    families = text_string_to_metric_families(path.read_text())
    return {
        family.name: {tuple(sorted(s.labels.items())): s.value for s in family.samples}
        for family in families
    }


def test_no_drift_exits_0(dev: Path, store: Store) -> None:
    result = drift(dev)
    assert result.exit_code == 0, result.output
    assert (
        "No drift: environment 'dev' matches its config (7 resource(s) checked)." in result.stdout
    )
    assert store.writes == 7


def test_drift_exits_4_and_lists_each_kind(dev: Path, store: Store) -> None:
    make_drift(store, dev)
    result = drift(dev)
    assert result.exit_code == 4, result.output
    out = result.stdout
    assert "~ modified memory/dev/ingest_invoices  (job invoices" in out
    assert '~ command: live ["by","hand"], config ["scripts/spark-submit"' in out
    assert "+ missing  memory/dev/salam-dev-payments  (job payments): in config, not live" in out
    assert "- orphan   memory/dev/" in out and "its job is gone from config" in out
    assert "= paused   memory/dev/" in out and "paused by an operator outside Salam" in out
    assert "1 modified, 1 missing, 1 orphan, 0 foreign, 1 paused." in out
    assert store.writes == 7, "drift never writes"


def test_json_document(dev: Path, store: Store) -> None:
    make_drift(store, dev)
    store.resources[key("ingest_invoices")] = replace(
        store.resources[key("ingest_invoices")], managed=False
    )
    result = drift(dev, "--output", "json")
    assert result.exit_code == 4
    document = json.loads(result.stdout)
    assert document["command"] == "drift" and document["exit_code"] == 4
    assert document["drift"] is True
    assert document["summary"] == {
        "modified": 0,
        "missing": 1,
        "orphan": 1,
        "foreign": 1,
        "paused": 1,
    }
    foreign = next(f for f in document["findings"] if f["kind"] == "foreign")
    assert foreign["key"] == "memory/dev/ingest_invoices" and foreign["job"] == "invoices"


def test_modified_json_has_live_and_config_values(dev: Path, store: Store) -> None:
    live = store.resources[key("ingest_invoices")]
    store.resources[live.key] = replace(
        live, spec={**live.spec, "schedule": {**live.spec["schedule"], "cron": "1 1 * * *"}}
    )
    document = json.loads(drift(dev, "-o", "json").stdout)
    (finding,) = document["findings"]
    assert finding["fields"] == [
        {"path": "schedule.cron", "live": "1 1 * * *", "config": "0 2 * * *"}
    ]


def test_ignored_drift_does_not_count(dev: Path, store: Store) -> None:
    del store.resources[key("salam-dev-payments")]
    add_settings(
        dev, "drift:\n  ignore:\n    - {job: payments, reason: 'decommissioning, OPS-7'}\n"
    )
    result = drift(dev)
    assert result.exit_code == 0, result.output
    assert "missing memory/dev/salam-dev-payments: decommissioning, OPS-7" in result.stdout
    document = json.loads(drift(dev, "--output", "json").stdout)
    assert document["drift"] is False and document["findings"] == []
    assert document["ignored"][0]["ignore_reasons"] == ["decommissioning, OPS-7"]


def test_metrics_file_parses_and_counts(dev: Path, store: Store, tmp_path: Path) -> None:
    make_drift(store, dev)
    path = tmp_path / "textfile" / "salam_drift_dev.prom"
    assert drift(dev, "--metrics-file", str(path)).exit_code == 4
    found = metrics_of(path)
    resources = found["salam_drift_resources"]
    labels = (("backend", "memory"), ("environment", "dev"))
    assert len(resources) == 5
    for kind, count in {
        "modified": 1,
        "missing": 1,
        "orphan": 1,
        "foreign": 0,
        "paused": 1,
    }.items():
        assert resources[tuple(sorted((*labels, ("kind", kind))))] == count
    env = (("environment", "dev"),)
    assert found["salam_drift_check_success"] == {env: 1.0}
    assert found["salam_drift_last_check_timestamp_seconds"][env] > 1.6e9
    assert found["salam_drift_check_duration_seconds"][env] >= 0
    assert [p.name for p in path.parent.iterdir()] == [path.name], "no temporary file left"


def test_failed_check_exits_1_and_writes_success_0(dev: Path, store: Store, tmp_path: Path) -> None:
    path = tmp_path / "drift.prom"
    store.fail_reads = True
    result = drift(dev, "--metrics-file", str(path))
    assert result.exit_code == 1
    assert "reads are failing" in result.stderr
    found = metrics_of(path)
    assert found["salam_drift_check_success"] == {(("environment", "dev"),): 0.0}
    assert "salam_drift_resources" not in found


def test_read_only_never_takes_the_apply_lock(
    dev: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    del store.resources[key("salam-dev-payments")]
    with lock.hold(dev / ".salam/state/dev/apply.lock", timeout=5):

        def refuse(*args: object, **kwargs: object) -> None:
            raise AssertionError("drift took the apply lock")

        monkeypatch.setattr(lock, "hold", refuse)
        result = drift(dev)
    assert result.exit_code == 4, result.output


def test_webhook_posts_a_summary_without_the_secret(
    dev: Path, store: Store, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_drift(store, dev)
    monkeypatch.setenv("SALAM_DRIFT_WEBHOOK_URL", receiver.url)
    add_settings(dev, "drift:\n  webhook: env:SALAM_DRIFT_WEBHOOK_URL\n")
    result = drift(dev, "--webhook", "--output", "json")
    assert result.exit_code == 4, result.output
    ((path, headers, raw),) = receiver.requests
    assert path == f"/hooks/{SECRET}"
    assert headers["Content-Type"] == "application/json"
    body = json.loads(raw)
    assert body["environment"] == "dev" and body["event"] == "drift"
    assert body["summary"] == {"modified": 1, "missing": 1, "orphan": 1, "foreign": 0, "paused": 1}
    assert {f["kind"] for f in body["findings"]} == {"modified", "missing", "orphan", "paused"}
    assert SECRET not in raw.decode()
    assert SECRET not in result.output
    assert json.loads(result.stdout)["webhook"] == {"sent": True, "status": 204}


def test_webhook_is_not_posted_without_drift(
    dev: Path, store: Store, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SALAM_DRIFT_WEBHOOK_URL", receiver.url)
    add_settings(dev, "drift:\n  webhook: env:SALAM_DRIFT_WEBHOOK_URL\n")
    assert drift(dev, "--webhook").exit_code == 0
    assert receiver.requests == []


def test_failing_webhook_exits_1_naming_only_the_reference(
    dev: Path, store: Store, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    del store.resources[key("salam-dev-payments")]
    receiver.status = 500
    monkeypatch.setenv("SALAM_DRIFT_WEBHOOK_URL", receiver.url)
    add_settings(dev, "drift:\n  webhook: env:SALAM_DRIFT_WEBHOOK_URL\n")
    result = drift(dev, "--webhook")
    assert result.exit_code == 1
    assert "drift webhook ('env:SALAM_DRIFT_WEBHOOK_URL') answered HTTP 500" in result.stderr
    assert "missing  memory/dev/salam-dev-payments" in result.stdout
    assert SECRET not in result.output and "127.0.0.1" not in result.output


def test_unset_webhook_variable_exits_1(dev: Path, store: Store) -> None:
    del store.resources[key("salam-dev-payments")]
    add_settings(dev, "drift:\n  webhook: env:SALAM_TEST_UNSET_WEBHOOK\n")
    result = drift(dev, "--webhook")
    assert result.exit_code == 1
    assert "SALAM_TEST_UNSET_WEBHOOK" in result.stderr and "is not set" in result.stderr


def test_webhook_flag_without_configured_webhook_exits_1(dev: Path, store: Store) -> None:
    result = drift(dev, "--webhook")
    assert result.exit_code == 1
    assert "--webhook needs drift.webhook" in result.stderr


def test_job_and_backend_filters(dev: Path, store: Store) -> None:
    del store.resources[key("salam-dev-payments")]
    assert drift(dev, "--job", "invoices").exit_code == 0
    assert drift(dev, "--job", "payments", "--backend", "memory").exit_code == 4
    result = drift(dev, "--job", "nope")
    assert result.exit_code == 1 and "no job nope" in result.stderr


def test_invalid_config_exits_3(dev: Path, store: Store) -> None:
    add_settings(dev, "drift:\n  ignore:\n    - {kind: sideways, reason: x}\n")
    assert drift(dev).exit_code == 3
