"""The controller's ``GET /metrics``: every environment's status as Prometheus text.

A rendering of :class:`reconciler.controller.status.EnvironmentStatus` (sync state, drift per
backend, applies by outcome, open alerts per kind) and of the schedule health it carries
(:class:`reconciler.health.ScheduleStatus`: next and last runs, lag, missed runs; rows from the
events file) — the families of :data:`reconciler.metrics.CONTROLLER`, rendered by
:func:`reconciler.metrics.family`. Pure: the server calls :func:`render` on each scrape. Rows
and each table's watermark come from the events file's completed runs (their run facet records
the watermark each commit moved to), not from the lake.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime

from reconciler import health, metrics
from reconciler.controller import incidents
from reconciler.controller.status import EnvironmentStatus, SyncState
from reconciler.model import ApplyStatus

Samples = Callable[[EnvironmentStatus], Iterable[metrics.Sample]]


def render(statuses: Mapping[str, EnvironmentStatus]) -> str:
    """The whole exposition: each family once, with the samples of every environment."""
    ordered = [statuses[env] for env in sorted(statuses)]
    lines: list[str] = []
    for metric in metrics.CONTROLLER:
        sampler = SAMPLERS[metric.name]
        lines += metrics.family(metric, [s for status in ordered for s in sampler(status)])
    return metrics.text(lines)


def _sync(status: EnvironmentStatus) -> Iterable[metrics.Sample]:
    for state in SyncState:
        yield (
            {"environment": status.environment, "status": state.value},
            float(state is status.sync_state),
        )


def _drift(status: EnvironmentStatus) -> Iterable[metrics.Sample]:
    return metrics.drift_samples(status.environment, status.drift_by_backend)


def _applies(status: EnvironmentStatus) -> Iterable[metrics.Sample]:
    for outcome in ApplyStatus:
        count = status.applies.get(outcome.value, 0)
        yield {"environment": status.environment, "outcome": outcome.value}, float(count)


def _next_run(status: EnvironmentStatus) -> Iterable[metrics.Sample]:
    for schedule in status.schedules:
        if schedule.next_runs:
            yield _schedule(status, schedule), schedule.next_runs[0].timestamp()


def _last_run(status: EnvironmentStatus) -> Iterable[metrics.Sample]:
    for schedule in status.schedules:
        if schedule.last_run is not None:
            labels = {**_schedule(status, schedule), "outcome": schedule.last_run.outcome}
            yield labels, schedule.last_run.started.timestamp()


def _lag(status: EnvironmentStatus) -> Iterable[metrics.Sample]:
    for schedule in status.schedules:
        yield _schedule(status, schedule), schedule.lag_seconds or 0.0


def _missed(status: EnvironmentStatus) -> Iterable[metrics.Sample]:
    for schedule in status.schedules:
        missed = schedule.counters.get("missed_catchup_window")
        if missed is not None:
            yield _schedule(status, schedule), float(missed)


def _rows(status: EnvironmentStatus) -> Iterable[metrics.Sample]:
    for job, rows in sorted(status.ingested.rows.items()):
        yield {"environment": status.environment, "job": job}, float(rows)


def _watermarks(status: EnvironmentStatus) -> Iterable[metrics.Sample]:
    for job, tables in sorted(status.ingested.watermarks.items()):
        for table, at in sorted(tables.items()):
            labels = {"environment": status.environment, "job": job, "table": table}
            yield labels, datetime.fromisoformat(at.replace("Z", "+00:00")).timestamp()


def _alerts(status: EnvironmentStatus) -> Iterable[metrics.Sample]:
    for kind in incidents.Kind:
        count = sum(alert.kind == kind.value for alert in status.alerts)
        yield {"environment": status.environment, "kind": kind.value}, float(count)


def _schedule(status: EnvironmentStatus, schedule: health.ScheduleStatus) -> dict[str, str]:
    return {"environment": status.environment, "job": schedule.job, "backend": schedule.backend}


SAMPLERS: dict[str, Samples] = {
    "salam_sync_status": _sync,
    "salam_drift_resources": _drift,
    "salam_apply_total": _applies,
    "salam_schedule_next_run_timestamp_seconds": _next_run,
    "salam_schedule_last_run_timestamp_seconds": _last_run,
    "salam_schedule_lag_seconds": _lag,
    "salam_schedule_missed_runs_total": _missed,
    "salam_ingestion_rows_total": _rows,
    "salam_ingestion_watermark_timestamp_seconds": _watermarks,
    "salam_alerts_open": _alerts,
}
