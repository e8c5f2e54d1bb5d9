"""The worker's part in the ingestion events: close the run of a job process that could not.

The worker gives each job process it starts an OpenLineage run id of its own (a fresh UUIDv7
per activity attempt, ``SALAM_LINEAGE_RUN_ID``), the workflow run id as Salam's run id
(``SALAM_RUN_ID``) and the workflow as the parent run. :class:`Watch` reads the process's event
stream (event lines and traces, :func:`ingestion.shared.lineage.observed`); when the process
printed a START for its run and ended without COMPLETE / FAIL / ABORT — killed by a signal,
stopped by the worker on a cancel (ABORT) or a timeout, heartbeat loss or worker shutdown
(FAIL), or dead unexpectedly (FAIL) — :func:`close` sends the terminal event to the
environment's sink with :mod:`ingestion.shared.lineage`, the job's own implementation. A sink
that cannot take it is a warning in the worker's log, never a failed activity.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingestion.shared import lineage

log = logging.getLogger("salam.worker")


@dataclass
class Watch:
    """What a job process said about its OpenLineage run ``run_id``."""

    run_id: str
    started: bool = False
    ended: bool = False

    def observe(self, line: str) -> str | None:
        """Note ``line``; return its event type when it is an event (or a trace)."""
        seen = lineage.observed(line)
        if seen is None:
            return None
        kind, run_id = seen
        if run_id == self.run_id:
            self.started = self.started or kind == "START"
            self.ended = self.ended or kind in lineage.TERMINAL
        return kind

    @property
    def open(self) -> bool:
        return self.started and not self.ended


@dataclass(frozen=True)
class Ending:
    """How the process ended, for the terminal event the worker sends."""

    kind: str  # FAIL or ABORT
    reason: str


def close(
    events: Mapping[str, Any],
    root: Path,
    watch: Watch,
    job: Mapping[str, str],
    parent: lineage.Parent | None,
    ending: Ending,
) -> None:
    """Send ``ending`` for ``watch``'s run to the ``events`` sink (``job``: environment, job)."""
    facets: dict[str, Any] = {
        "salam": lineage.facet(
            lineage.SALAM_RUN_FACET,
            run_id=parent.run_id if parent else None,
            environment=job["environment"],
            job=job["job"],
            closed_by="worker",
            reason=ending.reason,
        )
    }
    if parent is not None:
        facets["parent"] = parent.facet()
    if ending.kind == "FAIL":
        facets["errorMessage"] = lineage.error_facet(f"the job process {ending.reason}")
    name = {"namespace": lineage.job_namespace(job["environment"]), "name": job["job"]}
    event = lineage.run_event(ending.kind, watch.run_id, name, facets)
    try:
        sink = lineage.Sink(events, root, stream=sys.stdout, trace=False)
        sink.emit(event)
    except (lineage.SinkError, OSError) as exc:
        log.warning("job %s: %s event not sent: %s", job["job"], ending.kind, exc)
        return
    for warning in sink.warnings:
        log.warning("job %s: %s", job["job"], warning)
    watch.ended = True
    log.info(
        "job %s: sent %s for run %s (%s)", job["job"], ending.kind, watch.run_id, ending.reason
    )
