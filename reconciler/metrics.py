"""Drift metrics in the Prometheus text format, for node-exporter's textfile collector.

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

from reconciler.drift import Finding, Kind, per_backend

_HELP = {
    "salam_drift_resources": (
        "Resources drifted from config found by the last check, per backend and kind "
        "(accepted drift excluded)."
    ),
    "salam_drift_last_check_timestamp_seconds": "Unix time the last drift check ended.",
    "salam_drift_check_duration_seconds": "Seconds the last drift check took.",
    "salam_drift_check_success": "1 if the last drift check completed, 0 if it failed.",
}


@dataclass(frozen=True)
class Check:
    """What one drift run measured."""

    environment: str
    ended: float
    duration: float
    success: bool
    backends: Sequence[str] = ()
    findings: Sequence[Finding] = field(default_factory=tuple)


def render(check: Check) -> str:
    """The whole file's text."""
    env = {"environment": check.environment}
    lines: list[str] = []
    if check.success:
        counts = per_backend(check.findings)
        backends = sorted(set(check.backends) | {backend for backend, _ in counts})
        samples = [
            ({**env, "backend": b, "kind": k.value}, float(counts.get((b, k.value), 0)))
            for b in backends
            for k in Kind
        ]
        lines += _family("salam_drift_resources", samples)
    lines += _family("salam_drift_last_check_timestamp_seconds", [(env, check.ended)])
    lines += _family("salam_drift_check_duration_seconds", [(env, check.duration)])
    lines += _family("salam_drift_check_success", [(env, 1.0 if check.success else 0.0)])
    return "\n".join(lines) + "\n"


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


def _family(name: str, samples: Iterable[tuple[Mapping[str, str], float]]) -> list[str]:
    lines = [f"# HELP {name} {_HELP[name]}", f"# TYPE {name} gauge"]
    lines += [f"{name}{_labels(labels)} {_number(value)}" for labels, value in samples]
    return lines


def _labels(labels: Mapping[str, str]) -> str:
    inner = ",".join(f'{key}="{_escape(value)}"' for key, value in labels.items())
    return "{" + inner + "}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value: float) -> str:
    return str(int(value)) if value.is_integer() else repr(value)
