"""Durations written as ``90s``, ``10m``, ``2h``, ``1d`` or ``1h30m`` (the schema checks them)."""

from __future__ import annotations

import re

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_PART = re.compile(r"([0-9]+)([smhd])")


def seconds(text: str) -> int:
    """The number of seconds in ``text``; raises ValueError for anything else."""
    if not text or _PART.sub("", text):
        raise ValueError(f"not a duration: {text!r} (write e.g. 90s, 10m, 2h, 1d)")
    return sum(int(count) * _UNITS[unit] for count, unit in _PART.findall(text))
