"""``GET /metrics`` of ``reconcile serve``: an environment with drift, as Prometheus and promtool
read it — sync status, drift per backend and kind, applies by outcome, every schedule's next
and last runs and lag, and the rows from the events file."""

from __future__ import annotations

import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from ingestion.shared import lineage
from reconciler import metrics
from reconciler.controller import metrics as controller_metrics
from tests import promtool as tool
from tests.reconciler.controller.conftest import Site
from tests.reconciler.test_health import event_line


def scrape(site: Site) -> tuple[str, dict[tuple[str, tuple[tuple[str, str], ...]], float]]:
    with urllib.request.urlopen(f"http://127.0.0.1:{site.port}/metrics", timeout=5) as response:
        assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        text = response.read().decode()
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    return text, samples


def value(
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str
) -> float:
    return samples[(name, tuple(sorted(labels.items())))]


def test_metrics_show_an_environment_with_drift(crontab_site: Site, promtool: Path) -> None:
    site = crontab_site
    run, at = lineage.uuid7(), datetime.now(UTC) - timedelta(minutes=5)
    events = site.clone / ".salam/events/dev.jsonl"
    events.parent.mkdir(parents=True, exist_ok=True)
    events.write_text(
        event_line("START", "subscriptions", run, at)
        + event_line(
            "COMPLETE", "subscriptions", run, at + timedelta(minutes=1), rows=42,
            watermark=("bss_raw.subscriptions", at - timedelta(minutes=30)),
        )
    )  # fmt: skip
    site.start("sync.mode=detect")
    site.wait(lambda s: s["drift"], "drift counts")
    text, samples = scrape(site)
    tool.check_metrics(promtool, text)

    env = {"environment": "dev"}
    assert value(samples, "salam_sync_status", **env, status="out-of-sync") == 1
    assert value(samples, "salam_sync_status", **env, status="synced") == 0
    missing = value(samples, "salam_drift_resources", **env, backend="crontab", kind="missing")
    assert missing == site.status()["drift"]["missing"] > 0
    assert value(samples, "salam_apply_total", **env, outcome="applied") == 0  # detect mode
    job = {**env, "job": "subscriptions", "backend": "crontab"}
    assert value(samples, "salam_schedule_lag_seconds", **job) == 0  # not live: nothing to measure
    started = value(
        samples, "salam_schedule_last_run_timestamp_seconds", **job, outcome="succeeded"
    )
    assert started == at.timestamp()
    assert value(samples, "salam_ingestion_rows_total", **env, job="subscriptions") == 42
    watermark = value(
        samples, "salam_ingestion_watermark_timestamp_seconds", **env,
        job="subscriptions", table="bss_raw.subscriptions",
    )  # fmt: skip
    assert watermark == (at - timedelta(minutes=30)).timestamp()
    upcoming = value(samples, "salam_schedule_next_run_timestamp_seconds", **job)
    assert 0 < upcoming - datetime.now(UTC).timestamp() <= 3600  # hourly
    assert site.stop() == 0


def test_every_controller_family_has_a_sampler_and_is_documented() -> None:
    assert set(controller_metrics.SAMPLERS) == {m.name for m in metrics.CONTROLLER}
    reference = (Path(__file__).parents[3] / "docs/reference/metrics.md").read_text()
    assert all(f"`{m.name}`" in reference for m in metrics.CONTROLLER)
