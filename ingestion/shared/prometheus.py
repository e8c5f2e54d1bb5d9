"""Prometheus metric definitions: one :class:`Metric` per family — name, type, help, labels.

Every endpoint declares the families it serves as a table of these (the controller's and the
drift file's in :mod:`reconciler.metrics`, the worker's own counters in
:mod:`ingestion.worker.outcomes`); the exposition text is rendered from them, and the
reference page ``docs/reference/metrics.md`` is generated from the same tables
(``python -m tools.docgen``), so a series cannot be served undocumented. Definitions only: no I/O.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Type(enum.StrEnum):
    GAUGE = "gauge"
    COUNTER = "counter"


@dataclass(frozen=True)
class Metric:
    """One metric family, as served and as documented."""

    name: str
    type: Type
    help: str
    labels: tuple[str, ...]
    note: str = ""  # for the reference page: where the value comes from, when it is absent

    def __post_init__(self) -> None:
        if self.type is Type.COUNTER and not self.name.endswith("_total"):
            raise ValueError(f"counter {self.name} must end in _total")
