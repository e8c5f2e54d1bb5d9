"""The 5-field cron dialect: validation, time zones, and translation into the host's zone.

Every backend accepts exactly five fields (``m h dom mon dow``), parsed by ``cronsim`` (which
matches Debian's cron, daylight-saving days included); ``@macros`` and 6-field expressions are
refused with a hint. Debian's cron has no ``CRON_TZ``: an expression in a zone with a fixed
offset from the host's zone (Asia/Kolkata on a UTC host) is translated exactly (``0 * * * *``
IST is ``30 * * * *`` UTC); anything else (a zone with daylight saving) raises
:class:`ZoneError`. Problems are returned as ``(summary, hint)`` pairs, never raised, so the
validator can report them all at once.
"""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime, timedelta

import cronsim

MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}


def cron_problem(expression: str) -> tuple[str, str] | None:
    """Why ``expression`` is not a usable 5-field cron expression, with a hint; None if it is."""
    text = expression.strip()
    if text.startswith("@"):
        fields = MACROS.get(text.lower())
        hint = f"write '{fields}' instead" if fields else "write the five fields"
        return f"cron macro '{text}' is not supported", hint
    count = len(text.split())
    if count != 5:
        hint = "a 6th field means seconds to some tools and years to Temporal; use 5 fields"
        return f"cron expression has {count} fields, expected 5", hint
    try:
        cronsim.CronSim(text, datetime(2000, 1, 1, tzinfo=UTC))
    except cronsim.CronSimError as exc:
        return (
            f"invalid cron expression '{text}': {exc}",
            "fields: minute hour day-of-month month day-of-week",
        )
    return None


def restricts_day_of_month_and_week(expression: str) -> bool:
    fields = expression.split()
    return len(fields) == 5 and fields[2] != "*" and fields[4] != "*"


def timezone_problem(name: str) -> tuple[str, str] | None:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return f"unknown time zone '{name}'", "use an IANA name such as UTC or Asia/Kolkata"
    return None


_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))
_PROBE_YEARS = range(2024, 2031)


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
