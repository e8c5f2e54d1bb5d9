"""The job's ingestion events: one START, then one COMPLETE or FAIL, per job process.

Built on :mod:`ingestion.shared.lineage` (OpenLineage 2-0-2 RunEvents, the sink), which the
worker shares. :class:`Emitter` is made before anything that can fail (credentials, catalog,
session) and keeps the lifecycle: the START is sent once, when the run is going to do something
(:meth:`Emitter.start`) or, at the latest, just before its FAIL; a run whose run id is already
committed to every table sends nothing. The OpenLineage ``run.runId`` is :attr:`Emitter.run_id`
(a UUID); Salam's idempotency run id travels in the ``salam`` run facet. Datasets are named by
:mod:`ingestion.job.datasets`; output statistics and the catalog's table name ride along. An
event never carries a secret: every line is redacted by :func:`ingestion.job.errors.redact`.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Mapping
from typing import Any, TextIO

from ingestion.job.errors import JobError, RunExit, redact
from ingestion.shared import lineage


def sink(settings: Mapping[str, Any], root: Any, stream: TextIO | None) -> lineage.Sink:
    """The environment's events sink; a broken ``events`` section is an invalid config."""
    try:
        return lineage.Sink(settings, root, lambda text: redact(text, ()), stream)
    except lineage.SinkError as exc:
        raise JobError(
            "events", f"{exc}: no events can be sent", "fix environment.yaml", RunExit.INVALID
        ) from None


class Emitter:
    """The events of one job process, through ``sink``, for OpenLineage run ``run_id``."""

    def __init__(
        self,
        sink: lineage.Sink | None,
        run_id: str,
        job: Mapping[str, str],
        parent: lineage.Parent | None = None,
    ) -> None:
        self.sink = sink
        self.run_id = run_id
        self.job = dict(job)
        self.parent = parent
        self.started_at = lineage.now()
        self.started = False
        self.ended = False

    def start(
        self, inputs: list[dict[str, Any]], outputs: list[dict[str, Any]], facet: Any
    ) -> None:
        """Send the START (once)."""
        if self.started or self.sink is None:
            return
        self.started = True
        self._send("START", inputs, outputs, facet, None, self.started_at)

    def finish(
        self,
        kind: str,
        inputs: list[dict[str, Any]],
        outputs: list[dict[str, Any]],
        facet: Any,
        error: JobError | None = None,
    ) -> None:
        """Send the terminal event (COMPLETE or FAIL) of a started run, once."""
        if self.ended or not self.started or self.sink is None:
            return
        self.ended = True
        self._send(kind, inputs, outputs, facet, error, None)

    def _send(
        self,
        kind: str,
        inputs: list[dict[str, Any]],
        outputs: list[dict[str, Any]],
        facet: Mapping[str, Any],
        error: JobError | None,
        event_time: str | None,
    ) -> None:
        assert self.sink is not None
        facets: dict[str, Any] = {
            "salam": lineage.facet(lineage.SALAM_RUN_FACET, **facet),
            "processing_engine": lineage.facet(
                lineage.PROCESSING_ENGINE, name="spark", version=_spark_version()
            ),
        }
        if self.parent is not None:
            facets["parent"] = self.parent.facet()
        if error is not None:
            facets["errorMessage"] = lineage.error_facet(
                error.message, f"stage={error.stage}; hint={error.hint}"
            )
        self.sink.emit(
            lineage.run_event(kind, self.run_id, self.job, facets, inputs, outputs, event_time)
        )


def input_dataset(namespace: str, name: str) -> dict[str, Any]:
    return {"namespace": namespace, "name": name, "facets": {}}


def output_dataset(
    namespace: str, name: str, table: Mapping[str, str], stats: Mapping[str, int] | None = None
) -> dict[str, Any]:
    """An output dataset with Salam's dataset facet (catalog, table) and ``outputStatistics``."""
    entry: dict[str, Any] = {
        "namespace": namespace,
        "name": name,
        "facets": {"salam": lineage.facet(lineage.SALAM_DATASET_FACET, format="iceberg", **table)},
    }
    if stats is not None:
        entry["outputFacets"] = {
            "outputStatistics": lineage.facet(lineage.OUTPUT_STATISTICS, **stats)
        }
    return entry


def _spark_version() -> str:
    try:
        return importlib.metadata.version("pyspark")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"
