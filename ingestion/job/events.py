"""Ingestion events: one JSON line per ``START``, ``COMPLETE`` or ``FAIL``.

The shape follows OpenLineage's RunEvent (``eventType``, ``eventTime``, ``run.runId``,
``job.namespace``/``job.name``, ``inputs``/``outputs`` with ``outputStatistics`` and
``errorMessage`` facets); Salam's own fields live in the ``salam`` run facet. Sinks:
``file`` (JSON lines appended), ``stdout``, ``webhook`` (POST through
:mod:`ingestion.shared.webhook`; the URL is a secret reference resolved by
:mod:`ingestion.shared.references`). An event never carries a secret; a webhook that cannot be
reached is a warning, never a failed run.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ingestion.job.errors import JobError, redact
from ingestion.shared import references, webhook

PRODUCER = "https://salam.dev/ingestion"
SCHEMA_URL = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
FACET_SCHEMA = "https://salam.dev/schemas/ingestion-run-facet.json"
WEBHOOK_TIMEOUT_SECONDS = 10.0
USER_AGENT = "salam-ingest"


class Sink:
    """Where events go, from ``environment.yaml``'s ``events`` section."""

    def __init__(self, settings: Mapping[str, Any], root: Path, secrets: Iterable[str] = ()):
        self.kind = str(settings.get("sink", "stdout"))
        self.path = root / str(settings["path"]) if self.kind == "file" else None
        self.webhook_ref = settings.get("webhook") if self.kind == "webhook" else None
        self.secrets = tuple(secrets)
        self.warnings: list[str] = []

    def emit(self, event: Mapping[str, Any]) -> None:
        line = redact(json.dumps(event, sort_keys=True, default=str), self.secrets)
        if self.kind == "file" and self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(line + "\n")
        elif self.kind == "webhook" and self.webhook_ref:
            self._post(line)
        else:
            self._print(line)
            return
        # a one-line trace beside a file / webhook sink, so the worker's run summary counts it
        self._print(json.dumps({"event": event.get("eventType"), "sink": self.kind}))

    @staticmethod
    def _print(line: str) -> None:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

    def _post(self, line: str) -> None:
        try:
            url = references.resolve_text(str(self.webhook_ref))
            webhook.post_json(url, line, timeout=WEBHOOK_TIMEOUT_SECONDS, user_agent=USER_AGENT)
        except (references.UnresolvedReference, webhook.WebhookError) as exc:
            self.warnings.append(f"events webhook ({self.webhook_ref}) not delivered: {exc}")


def event(
    kind: str,
    run_id: str,
    job: Mapping[str, str],
    inputs: list[dict[str, Any]],
    outputs: list[dict[str, Any]],
    facet: Mapping[str, Any],
    error: JobError | None = None,
) -> dict[str, Any]:
    """One OpenLineage-shaped run event."""
    run_facets: dict[str, Any] = {
        "salam": {"_producer": PRODUCER, "_schemaURL": FACET_SCHEMA, **facet}
    }
    if error is not None:
        run_facets["errorMessage"] = {
            "_producer": PRODUCER,
            "_schemaURL": "https://openlineage.io/spec/facets/1-0-1/ErrorMessageRunFacet.json",
            "message": error.message,
            "programmingLanguage": "python",
            "stackTrace": f"stage={error.stage}; hint={error.hint}",
        }
    return {
        "eventType": kind,
        "eventTime": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "producer": PRODUCER,
        "schemaURL": SCHEMA_URL,
        "run": {"runId": run_id, "facets": run_facets},
        "job": dict(job),
        "inputs": inputs,
        "outputs": outputs,
    }


def dataset(
    namespace: str,
    name: str,
    stats: Mapping[str, int] | None = None,
    facets: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """An OpenLineage dataset, with ``outputStatistics`` (rowCount, size, fileCount) if given."""
    entry: dict[str, Any] = {"namespace": namespace, "name": name, "facets": dict(facets or {})}
    if stats is not None:
        entry["outputFacets"] = {
            "outputStatistics": {
                "_producer": PRODUCER,
                "_schemaURL": "https://openlineage.io/spec/facets/1-0-2/OutputStatisticsOutputDatasetFacet.json",
                **stats,
            }
        }
    return entry
