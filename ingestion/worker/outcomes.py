"""How each ``IngestionWorkflow`` run ended, counted for Prometheus by the workflow itself.

:class:`Outcome` is the closed set (succeeded, retried: failed with a retry of the workflow to
follow, failed: the last attempt or a non-retryable failure, cancelled). :func:`record` adds one
to the counter :data:`METRIC` through the Temporal SDK's workflow metric meter, which is replay
safe (nothing is recorded while a workflow is replayed) and is exported with the SDK's own
metrics on the worker's ``/metrics`` (:mod:`ingestion.worker.observe`); without ``--listen``
the meter records nothing. Imported inside the workflow sandbox: no side effects.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

from temporalio import workflow

from ingestion.shared.prometheus import Metric, Type


class Outcome(enum.StrEnum):
    SUCCEEDED = "succeeded"
    RETRIED = "retried"
    FAILED = "failed"
    CANCELLED = "cancelled"


METRIC = Metric(
    "salam_workflow_outcomes_total",
    Type.COUNTER,
    "IngestionWorkflow runs by outcome (retried: failed, and the workflow retry follows).",
    ("environment", "job", "namespace", "outcome", "service_name", "task_queue", "workflow_type"),
    "Counted by the workflow through the Temporal SDK's metric meter (namespace, task_queue, "
    "workflow_type and service_name are the SDK's own labels); served by the worker with the "
    "SDK's temporal_* metrics; a series appears with its first run.",
)


def record(plan: Mapping[str, Any], outcome: Outcome) -> None:
    """Count one run of ``plan``'s job ending with ``outcome`` (call from workflow code only)."""
    counter = workflow.metric_meter().create_counter(
        METRIC.name.removesuffix("_total"), METRIC.help
    )
    labels = {"environment": str(plan.get("environment", "")), "job": str(plan.get("job", ""))}
    counter.add(1, {**labels, "outcome": outcome.value})
