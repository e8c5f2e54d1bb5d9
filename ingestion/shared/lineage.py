"""OpenLineage 2-0-2 run events and their sink: the one implementation of the job and the worker.

The job (:mod:`ingestion.job.events`) builds its START / COMPLETE / FAIL events here and sends
them through :class:`Sink`; the worker (:mod:`ingestion.worker.endings`) sends the FAIL or ABORT
of a job process that printed a START and died without a terminal event, to the same sink.

Run ids are UUIDs (:func:`uuid7`, RFC 9562: time-ordered). The OpenLineage ``run.runId`` of a
job process comes from ``SALAM_LINEAGE_RUN_ID`` when the worker sets it (a fresh one per
activity attempt), so a retry never sends a second START for a run that already ended; the
worker's Temporal workflow run is the :class:`Parent` (``ParentRunFacet``). Every facet names its
official schema in ``_schemaURL``. Sinks: ``file`` (JSON lines appended), ``stdout`` (the
process's event stream), ``webhook`` (POST through :mod:`ingestion.shared.webhook`; the URL is a
secret reference). Beside a file or webhook sink a one-line trace (``{"event", "runId",
"sink"}``) goes to the event stream, so the worker can count events and see which run started.
A webhook that cannot be reached is a warning, never a failed run.
"""

from __future__ import annotations

import json
import os
import sys
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from ingestion.shared import references, webhook

PRODUCER = "https://salam.dev/ingestion"
SCHEMA_URL = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
SALAM_RUN_FACET = "https://salam.dev/schemas/ingestion-run-facet.json"
SALAM_DATASET_FACET = "https://salam.dev/schemas/ingestion-dataset-facet.json"
SALAM_MAINTENANCE_FACET = "https://salam.dev/schemas/maintenance-run-facet.json"
FACETS = "https://openlineage.io/spec/facets"
ERROR_MESSAGE = f"{FACETS}/1-0-1/ErrorMessageRunFacet.json"
PARENT_RUN = f"{FACETS}/1-2-0/ParentRunFacet.json"
JOB_TYPE = f"{FACETS}/2-0-4/JobTypeJobFacet.json"
PROCESSING_ENGINE = f"{FACETS}/1-1-1/ProcessingEngineRunFacet.json"
OUTPUT_STATISTICS = f"{FACETS}/1-0-2/OutputStatisticsOutputDatasetFacet.json"
TERMINAL = ("COMPLETE", "FAIL", "ABORT")
# set by the worker for the job process it starts
LINEAGE_RUN_ID_ENV = "SALAM_LINEAGE_RUN_ID"
RUN_ID_ENV = "SALAM_RUN_ID"
WORKFLOW_ID_ENV = "SALAM_WORKFLOW_ID"
TEMPORAL_NAMESPACE_ENV = "SALAM_TEMPORAL_NAMESPACE"
WEBHOOK_TIMEOUT_SECONDS = 10.0
USER_AGENT = "salam-ingest"


def uuid7() -> str:
    """A UUID version 7 (RFC 9562): 48-bit Unix milliseconds, version, 74 random bits."""
    value = (time.time_ns() // 1_000_000) << 80 | int.from_bytes(os.urandom(10))
    value = (value & ~(0xF << 76)) | (0x7 << 76)  # version 7
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # variant 10
    return str(uuid.UUID(int=value))


def is_uuid(text: str | None) -> bool:
    """True for a UUID in its canonical hyphenated form (what ``format: uuid`` accepts)."""
    try:
        return bool(text) and str(uuid.UUID(str(text))) == str(text).lower()
    except ValueError:
        return False


def job_namespace(environment: str) -> str:
    """The OpenLineage job namespace of an environment's ingestion jobs."""
    return f"salam/{environment}"


@dataclass(frozen=True)
class Parent:
    """The run that started this one: the worker's Temporal workflow run."""

    namespace: str
    name: str
    run_id: str

    def facet(self) -> dict[str, Any]:
        return facet(
            PARENT_RUN,
            run={"runId": self.run_id},
            job={"namespace": self.namespace, "name": self.name},
        )


def temporal_parent(namespace: str, workflow_id: str, run_id: str) -> Parent | None:
    """The workflow run as a parent (job ``temporal/<namespace>`` / workflow id), if it is one."""
    if not (namespace and workflow_id and is_uuid(run_id)):
        return None
    return Parent(f"temporal/{namespace}", workflow_id, run_id)


def parent_from_env(env: Mapping[str, str]) -> Parent | None:
    """The parent the worker named in the job process's environment, if any."""
    return temporal_parent(
        env.get(TEMPORAL_NAMESPACE_ENV, ""), env.get(WORKFLOW_ID_ENV, ""), env.get(RUN_ID_ENV, "")
    )


def facet(schema_url: str, **fields: Any) -> dict[str, Any]:
    """A facet: ``fields`` with ``_producer`` and the ``_schemaURL`` of its schema."""
    return {"_producer": PRODUCER, "_schemaURL": schema_url, **fields}


def job_facets() -> dict[str, Any]:
    return {"jobType": facet(JOB_TYPE, processingType="BATCH", integration="SALAM", jobType="JOB")}


def error_facet(message: str, stack_trace: str | None = None) -> dict[str, Any]:
    fields = {"message": message, "programmingLanguage": "python"}
    if stack_trace:
        fields["stackTrace"] = stack_trace
    return facet(ERROR_MESSAGE, **fields)


def now() -> str:
    return format_time(datetime.now(UTC))


def format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def run_event(
    kind: str,
    run_id: str,
    job: Mapping[str, str],
    run_facets: Mapping[str, Any],
    inputs: list[dict[str, Any]] | None = None,
    outputs: list[dict[str, Any]] | None = None,
    event_time: str | None = None,
) -> dict[str, Any]:
    """One OpenLineage RunEvent (``job`` is ``{"namespace", "name"}``)."""
    return {
        "eventType": kind,
        "eventTime": event_time or now(),
        "producer": PRODUCER,
        "schemaURL": SCHEMA_URL,
        "run": {"runId": run_id, "facets": dict(run_facets)},
        "job": {**job, "facets": job_facets()},
        "inputs": inputs or [],
        "outputs": outputs or [],
    }


class SinkError(Exception):
    """The ``events`` section cannot be used (a file sink without a path)."""


class Sink:
    """Where events go, from ``environment.yaml``'s ``events`` section.

    ``stream`` is the event stream (a ``stdout`` sink's lines, the trace beside the others);
    ``trace`` False sends no trace; ``redact`` removes resolved secrets from every line.
    """

    def __init__(
        self,
        settings: Mapping[str, Any],
        root: Path,
        redact: Callable[[str], str] = lambda text: text,
        stream: TextIO | None = None,
        trace: bool = True,
    ):
        self.kind = str(settings.get("sink", "stdout"))
        if self.kind == "file" and not settings.get("path"):
            raise SinkError("events.sink is 'file' but events.path is not set")
        if self.kind == "webhook" and not settings.get("webhook"):
            raise SinkError("events.sink is 'webhook' but events.webhook is not set")
        self.path = root / str(settings["path"]) if self.kind == "file" else None
        self.webhook_ref = settings.get("webhook") if self.kind == "webhook" else None
        self.redact = redact
        self.stream = stream
        self.trace = trace
        self.warnings: list[str] = []

    def emit(self, event: Mapping[str, Any]) -> None:
        line = self.redact(json.dumps(event, sort_keys=True, default=str))
        if self.kind == "file" and self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(line + "\n")
        elif self.kind == "webhook":
            self._post(line)
        else:
            self._print(line)
            return
        if self.trace:
            run_id = event.get("run", {}).get("runId")
            self._print(
                json.dumps({"event": event.get("eventType"), "runId": run_id, "sink": self.kind})
            )

    def _print(self, line: str) -> None:
        stream = self.stream or sys.stdout
        stream.write(line + "\n")
        stream.flush()

    def _post(self, line: str) -> None:
        try:
            url = references.resolve_text(str(self.webhook_ref))
            webhook.post_json(url, line, timeout=WEBHOOK_TIMEOUT_SECONDS, user_agent=USER_AGENT)
        except (references.UnresolvedReference, webhook.WebhookError) as exc:
            self.warnings.append(f"events webhook ({self.webhook_ref}) not delivered: {exc}")


def observed(line: str) -> tuple[str, str | None] | None:
    """``(eventType, runId)`` of an event stream line (an event or a trace), else None."""
    if not line.startswith("{"):
        return None
    try:
        document = json.loads(line)
    except ValueError:
        return None
    if not isinstance(document, dict):
        return None
    kind = document.get("event") or document.get("eventType")
    if not kind:
        return None
    run = document.get("run")
    run_id = document.get("runId") or (run.get("runId") if isinstance(run, dict) else None)
    return str(kind), str(run_id) if run_id else None
