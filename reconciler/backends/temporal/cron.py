"""One canonical text for a schedule's calendar: cron strings and Temporal calendar specs alike.

The server rewrites a cron string into a structured calendar spec (``*/15`` comes back as the
range 0-59 step 15, ``7`` as Sunday ``0``, names as numbers), so both sides are expanded here to
the set of values each field allows and written back in one form. Expressions Temporal would
refuse or read differently from cron (``L``, ``W``, ``#``, both day fields restricted: see
:class:`ingestion.cron.dialect.Dialect`) are refused with the same words as validation.
A day-of-week step from a single number runs to 7 (Sunday), as in cron and on the server:
``1/2`` is Monday, Wednesday, Friday and Sunday.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from temporalio.client import ScheduleCalendarSpec, ScheduleRange

from ingestion.cron import dialect

FIELDS = ("minute", "hour", "day_of_month", "month", "day_of_week")
BOUNDS = {
    "minute": (0, 59),
    "hour": (0, 23),
    "day_of_month": (1, 31),
    "month": (1, 12),
    "day_of_week": (0, 6),
}
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_NAMES = {
    "month": {m: i + 1 for i, m in enumerate(_MONTHS)},
    "day_of_week": {d: i for i, d in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"])},
}


class CronError(ValueError):
    """A cron expression this backend cannot express faithfully as a Temporal calendar."""


def normalise(expression: str) -> str:
    """The canonical text of a 5-field cron expression."""
    text = dialect.MACROS.get(expression.strip().lower(), expression.strip())
    problem = dialect.cron_problem(text) or next(
        iter(dialect.backend_problems(text, "temporal")), None
    )
    if problem:
        raise CronError(f"{problem[0]}; hint: {problem[1]}")
    return " ".join(
        _compress(name, _expand(name, part, expression))
        for name, part in zip(FIELDS, text.split(), strict=True)
    )


def from_calendars(calendars: Sequence[ScheduleCalendarSpec]) -> str | None:
    """The canonical cron text of a live calendar spec, or None when no cron line can say it."""
    if len(calendars) != 1:
        return None
    calendar = calendars[0]
    if _values(calendar.second, (0, 59)) != {0} or calendar.comment:
        return None
    if calendar.year:
        return None
    return " ".join(
        _compress(name, _values(getattr(calendar, name), BOUNDS[name])) for name in FIELDS
    )


def _values(ranges: Sequence[ScheduleRange], bounds: tuple[int, int]) -> set[int]:
    found: set[int] = set()
    for r in ranges:
        end = max(r.end, r.start)
        found.update(
            v % 7 if bounds == (0, 6) else v for v in range(r.start, end + 1, max(r.step, 1))
        )
    return found


def _expand(name: str, part: str, expression: str) -> set[int]:
    low, high = BOUNDS[name]
    values: set[int] = set()
    for item in part.upper().split(","):
        body, _, step_text = item.partition("/")
        step = _number(name, step_text, expression) if step_text else 1
        if body == "*":
            start, end = low, high
        elif "-" in body:
            first, _, last = body.partition("-")
            start, end = _number(name, first, expression), _number(name, last, expression)
        else:
            start = _number(name, body, expression)
            end = (7 if name == "day_of_week" else high) if step_text else start
        values.update(
            v % 7 if name == "day_of_week" else v for v in range(start, end + 1, max(step, 1))
        )
    return values


def _number(name: str, text: str, expression: str) -> int:
    if text in _NAMES.get(name, {}):
        return _NAMES[name][text]
    if not text.isdigit():
        raise CronError(f"cron expression '{expression}': '{text}' has no Temporal equivalent")
    return int(text)


def _compress(name: str, values: Iterable[int]) -> str:
    """``*``, ``*/s`` or ``a-b/s`` for one progression, else comma-separated runs ``a-b``."""
    low, high = BOUNDS[name]
    ordered = sorted(set(values))
    if ordered == list(range(low, high + 1)):
        return "*"
    if len(ordered) >= 3:
        step = ordered[1] - ordered[0]
        if step > 1 and ordered == list(range(ordered[0], ordered[-1] + 1, step)):
            prefix = (
                "*"
                if ordered[0] == low and ordered[-1] + step > high
                else f"{ordered[0]}-{ordered[-1]}"
            )
            return f"{prefix}/{step}"
    return ",".join(_runs(ordered))


def _runs(ordered: list[int]) -> Iterable[str]:
    start = previous = ordered[0]
    for value in [*ordered[1:], None]:
        if value is not None and value == previous + 1:
            previous = value
            continue
        yield str(start) if start == previous else f"{start}-{previous}"
        if value is not None:
            start = previous = value
