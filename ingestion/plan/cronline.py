"""The crontab line of a ``plain_cron`` job, with its time zone honoured on the host's cron.

Debian's cron has no ``CRON_TZ``. An expression in a zone with a fixed offset from the host's
zone (Asia/Kolkata on a UTC host) is translated exactly (``0 * * * *`` IST is ``30 * * * *``
UTC); a target declared to support ``CRON_TZ`` gets the expression as written; anything else
(a zone with daylight saving on a host without ``CRON_TZ``) is refused with :class:`ZoneError`.
"""

from __future__ import annotations

import re
import shlex
import zoneinfo
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))
_PROBE_YEARS = range(2024, 2031)
_UNESCAPED_PERCENT = re.compile(r"(?<!\\)%")  # cron turns a bare % into a newline


class ZoneError(ValueError):
    """The expression cannot be run in its zone by the target cron."""


def fixed_offset_minutes(zone: str) -> int | None:
    """The zone's UTC offset in minutes if it never changes, else None."""
    info = zoneinfo.ZoneInfo(zone)
    offsets = set()
    for year in _PROBE_YEARS:
        for month in (1, 4, 7, 10):
            offset = datetime(year, month, 1, tzinfo=info).utcoffset() or timedelta()
            offsets.add(int(offset.total_seconds()) // 60)
    return offsets.pop() if len(offsets) == 1 else None


def translate(expression: str, zone: str, host_zone: str) -> str:
    """``expression`` (meant in ``zone``) as a host-zone expression, or :class:`ZoneError`."""
    if zone == host_zone:
        return expression
    local, host = fixed_offset_minutes(zone), fixed_offset_minutes(host_zone)
    if local is None or host is None:
        varying = zone if local is None else host_zone
        raise ZoneError(
            f"time zone {varying} changes its UTC offset (daylight saving), so "
            f"'{expression}' in {zone} cannot be written for a cron running in {host_zone}"
        )
    shift = local - host
    minute, hour, *days = expression.split()
    times = {(h * 60 + m - shift) for h in _expand(hour, 1) for m in _expand(minute, 0)}
    if any(t < 0 or t >= 1440 for t in times) and days != ["*", "*", "*"]:
        raise ZoneError(
            f"'{expression}' in {zone} moves to another day in {host_zone}, "
            "and its day fields cannot follow"
        )
    shifted = {t % 1440 for t in times}
    minutes, hours = {t % 60 for t in shifted}, {t // 60 for t in shifted}
    if len(minutes) * len(hours) != len(shifted):
        raise ZoneError(f"'{expression}' in {zone} has no single-line equivalent in {host_zone}")
    return " ".join([_compress(minutes, 0), _compress(hours, 1), *days])


def line(
    *,
    expression: str,
    zone: str,
    settings: Mapping[str, Any],
    workdir: str,
    job_id: str,
    command: Sequence[str],
    log_file: str | None,
) -> str:
    """The crontab line for one job: schedule, working directory, ``flock`` and log redirection."""
    host_zone = str(settings.get("host_timezone", "UTC"))
    if settings.get("supports_cron_tz") and zone != host_zone:
        prefix = f"CRON_TZ={zone}\n{expression}"
    else:
        prefix = translate(expression, zone, host_zone)
    lock = f"{settings.get('lock_dir', '.salam/locks')}/{job_id}.lock"
    run = f"cd {shlex.quote(workdir)} && flock -n {shlex.quote(lock)} {shlex.join(command)}"
    if log_file:
        run += f" >> {shlex.quote(log_file)} 2>&1"
    run = _UNESCAPED_PERCENT.sub(r"\\%", run)
    return f"{prefix} {run}"


def _expand(field: str, index: int) -> set[int]:
    low, high = _RANGES[index]
    values: set[int] = set()
    for part in field.split(","):
        spec, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if spec == "*":
            start, end = low, high
        elif "-" in spec:
            start, end = (int(x) for x in spec.split("-", 1))
        else:
            start = int(spec)
            end = high if step_text else start
        values.update(range(start, end + 1, step))
    return values


def _compress(values: set[int], index: int) -> str:
    low, high = _RANGES[index]
    if values == set(range(low, high + 1)):
        return "*"
    return ",".join(str(v) for v in sorted(values))
