"""Salam's metrics in the Prometheus text format: the families, and the one renderer of them.

The families are a table of :class:`ingestion.shared.prometheus.Metric` (:data:`DRIFT_FILE`,
:data:`CONTROLLER`; the reference page is generated from it); :func:`family` renders one of
them with its samples and is the only place that writes the exposition format — for the
controller's ``GET /metrics`` (:mod:`reconciler.controller.metrics`) and for the drift file.

Drift metrics for node-exporter's textfile collector (``reconcile drift --metrics-file``):

The collector reads every ``*.prom`` file in its directory on each scrape, so the file is
written whole and atomically (a temporary file in the same directory, then a rename): a scrape
never sees half a file. Series:

- ``salam_drift_resources{environment,backend,kind}``: counted drift (ignored drift excluded),
  every backend checked times every kind, zeros included so alerts see the series go to 0;
- ``salam_drift_last_check_timestamp_seconds{environment}``: when the check ended;
- ``salam_drift_check_duration_seconds{environment}``: how long it took;
- ``salam_drift_check_success{environment}``: 1, or 0 when the check failed (then no
  ``salam_drift_resources`` series: nothing is known).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ingestion.shared.prometheus import Metric, Type
from reconciler.drift import Finding, Kind, per_backend

ENV = ("environment",)
SCHEDULE = ("environment", "job", "backend")

DRIFT_RESOURCES = Metric(
    "salam_drift_resources",
    Type.GAUGE,
    "Resources drifted from config found by the last check, per backend and kind "
    "(accepted drift excluded).",
    ("environment", "backend", "kind"),
    "Every backend checked times every kind, zeros included; absent when the check failed.",
)
DRIFT_LAST_CHECK = Metric(
    "salam_drift_last_check_timestamp_seconds",
    Type.GAUGE,
    "Unix time the last drift check ended.",
    ENV,
)
DRIFT_DURATION = Metric(
    "salam_drift_check_duration_seconds", Type.GAUGE, "Seconds the last drift check took.", ENV
)
DRIFT_SUCCESS = Metric(
    "salam_drift_check_success",
    Type.GAUGE,
    "1 if the last drift check completed, 0 if it failed.",
    ENV,
)
DRIFT_FILE = (DRIFT_RESOURCES, DRIFT_LAST_CHECK, DRIFT_DURATION, DRIFT_SUCCESS)
CONTROLLER = (
    Metric(
        "salam_sync_status",
        Type.GAUGE,
        "1 for the environment's current sync status, 0 for the others.",
        ("environment", "status"),
        "One series per status (unknown, synced, out-of-sync, failed).",
    ),
    DRIFT_RESOURCES,
    Metric(
        "salam_apply_total",
        Type.COUNTER,
        "Applies this controller process ran, by outcome.",
        ("environment", "outcome"),
        "Every outcome (applied, unverified, rolled-back, restore-failed, lease-lost), zeros "
        "included; starts at 0 when the controller starts.",
    ),
    Metric(
        "salam_schedule_next_run_timestamp_seconds",
        Type.GAUGE,
        "Unix time of the schedule's next fire time.",
        SCHEDULE,
        "Absent for a paused schedule.",
    ),
    Metric(
        "salam_schedule_last_run_timestamp_seconds",
        Type.GAUGE,
        "Unix time the schedule's latest known run started, with its outcome.",
        (*SCHEDULE, "outcome"),
        "outcome: succeeded, failed, aborted, running (ingestion events), or started (the "
        "scheduler's own record, which has no outcome). Absent when no run was seen.",
    ),
    Metric(
        "salam_schedule_lag_seconds",
        Type.GAUGE,
        "Seconds since a fire time passed without a run starting (0: on time).",
        SCHEDULE,
        "0 also when lag cannot be measured (paused, not live, never seen running).",
    ),
    Metric(
        "salam_schedule_missed_runs_total",
        Type.COUNTER,
        "Runs the scheduler skipped because they fell outside its catch-up window.",
        SCHEDULE,
        "Only where the scheduler counts them (Temporal's missed_catchup_window).",
    ),
    Metric(
        "salam_ingestion_rows_total",
        Type.COUNTER,
        "Rows written by the job's completed runs, summed over the environment's events file.",
        ("environment", "job"),
        "Only with an events file sink (events.sink: file); absent for a job with no "
        "completed run in it.",
    ),
    Metric(
        "salam_ingestion_watermark_timestamp_seconds",
        Type.GAUGE,
        "The watermark a table's latest completed run committed (the cursor it reached).",
        ("environment", "job", "table"),
        "From the events file's completed runs (events.sink: file), as the run recorded it with "
        "its commit; absent for a table no completed run committed.",
    ),
    Metric(
        "salam_alerts_open",
        Type.GAUGE,
        "Incidents alerted on and not resolved yet, per kind.",
        ("environment", "kind"),
        "Every kind, zeros included: apply-failed, restore-failed, policy-denied, drift, "
        "schedule-late, ingestion-failed, canary-failed, canary-late.",
    ),
)


@dataclass(frozen=True)
class Check:
    """What one drift run measured."""

    environment: str
    ended: float
    duration: float
    success: bool
    backends: Sequence[str] = ()
    findings: Sequence[Finding] = field(default_factory=tuple)


Sample = tuple[Mapping[str, str], float]


def render(check: Check) -> str:
    """The drift file's text."""
    env = {"environment": check.environment}
    lines: list[str] = []
    if check.success:
        counts = drift_counts(check.backends, check.findings)
        lines += family(DRIFT_RESOURCES, drift_samples(check.environment, counts))
    lines += family(DRIFT_LAST_CHECK, [(env, check.ended)])
    lines += family(DRIFT_DURATION, [(env, check.duration)])
    lines += family(DRIFT_SUCCESS, [(env, 1.0 if check.success else 0.0)])
    return text(lines)


def drift_counts(backends: Iterable[str], findings: Iterable[Finding]) -> dict[str, dict[str, int]]:
    """Counted drift per backend and kind: every backend checked, every kind, zeros included."""
    counts = per_backend(findings)
    names = sorted(set(backends) | {backend for backend, _ in counts})
    return {b: {k.value: counts.get((b, k.value), 0) for k in Kind} for b in names}


def drift_samples(environment: str, counts: Mapping[str, Mapping[str, int]]) -> list[Sample]:
    return [
        ({"environment": environment, "backend": backend, "kind": kind}, float(n))
        for backend, kinds in sorted(counts.items())
        for kind, n in kinds.items()
    ]


def write(path: Path, check: Check) -> None:
    """Write the metrics file atomically (readable by the collector: mode 0644)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(render(check))
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def family(metric: Metric, samples: Iterable[Sample]) -> list[str]:
    """The lines of one family: HELP, TYPE, then one line per sample (labels in the metric's
    order; a sample with other labels is a programming error)."""
    lines = [
        f"# HELP {metric.name} {_escape_help(metric.help)}",
        f"# TYPE {metric.name} {metric.type}",
    ]
    for labels, value in samples:
        if tuple(labels) != metric.labels:
            raise ValueError(f"{metric.name}: labels {tuple(labels)}, expected {metric.labels}")
        lines.append(f"{metric.name}{_labels(labels)} {_number(value)}")
    return lines


def text(lines: Sequence[str]) -> str:
    """A whole exposition from the families' lines."""
    return "\n".join(lines) + "\n"


def _labels(labels: Mapping[str, str]) -> str:
    inner = ",".join(f'{key}="{_escape(value)}"' for key, value in labels.items())
    return "{" + inner + "}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _escape_help(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n")


def _number(value: float) -> str:
    return str(int(value)) if value.is_integer() else repr(value)
