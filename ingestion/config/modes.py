"""The closed set of orchestration modes (``runtime.orchestration.mode``) and what each implies.

Every mode names the config block it reads (``cron``, ``external``, ``temporal``,
``kubernetes``) and the backend that holds its schedules; that backend's section in
``environment.yaml`` carries the backend's name. Config validation, plan rendering and the
reconciler's routing all ask a :class:`Mode` member instead of keeping tables of their own:
adding a mode is one member here (plus the schema's enum and the backend's package).
"""

from __future__ import annotations

import enum


class Mode(enum.StrEnum):
    """An orchestration mode; the value (and ``str()``) is the config's spelling."""

    block: str
    backend: str

    PLAIN_CRON = ("plain_cron", "cron", "crontab")
    EXTERNAL_SCHEDULER = ("external_scheduler", "external", "export")
    AIRFLOW = ("airflow", "external", "airflow")
    INFORMATICA = ("informatica", "external", "export")
    TEMPORAL = ("temporal", "temporal", "temporal")
    KUBERNETES = ("kubernetes", "kubernetes", "kubernetes")

    def __new__(cls, value: str, block: str, backend: str) -> Mode:
        member = str.__new__(cls, value)
        member._value_ = value
        member.block = block
        member.backend = backend
        return member

    @classmethod
    def of(cls, text: str) -> Mode:
        """The mode spelled ``text`` (``Mode(text)`` in words mypy follows)."""
        for mode in cls:
            if mode.value == text:
                return mode
        raise ValueError(f"unknown mode '{text}' (known: {', '.join(m.value for m in cls)})")

    @property
    def section(self) -> str:
        """The ``environment.yaml`` section the mode's backend needs (named as the backend)."""
        return self.backend

    @property
    def hands_off(self) -> bool:
        """True for the modes whose schedule another scheduler runs (``external`` block)."""
        return self.block == "external"

    @property
    def has_schedule_block(self) -> bool:
        """True when the block nests its cron under ``schedule`` (Temporal, Kubernetes)."""
        return self in (Mode.TEMPORAL, Mode.KUBERNETES)

    @classmethod
    def blocks(cls) -> frozenset[str]:
        return frozenset(mode.block for mode in cls)
