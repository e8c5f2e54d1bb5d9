"""The 5-field cron dialect, what each backend's own cron makes of it, and time zones.

Every backend accepts at most what ``cronsim`` parses in five fields (``m h dom mon dow``);
``@macros`` and 6-field expressions are refused with a hint (:func:`cron_problem`). Beyond
numbers, ranges, steps, names and ``*``, each backend's cron reads a different language:
:class:`Dialect` (one member per backend, keyed by the backend's name) lists the
:class:`Construct` s it cannot run *as cron means them*, each with what that cron would do
instead, and :func:`backend_problems` names them with a hint. Checked against the real tools
(Debian ``crontab`` and ``cron -f``, the Temporal dev server, ``croniter``) and robfig/cron v3's
source for Kubernetes; see tests/ingestion/config/test_cron_dialect.py. A backend that treats
runs at a clock change its own way (Temporal) says so: :func:`clock_change_problem` lists the
days of the coming year a schedule meets one (:mod:`ingestion.cron.transitions`).

Debian's cron has no ``CRON_TZ``: an expression in a zone with a fixed offset from the host's
zone (Asia/Kolkata on a UTC host) is translated exactly (``0 * * * *`` IST is ``30 * * * *``
UTC); anything else (a zone with daylight saving) raises :class:`ZoneError`. Problems are
returned as ``(summary, hint)`` pairs, never raised, so the validator can report them all.
"""

from __future__ import annotations

import difflib
import enum
import functools
import zoneinfo
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import NamedTuple

import cronsim

from ingestion.cron import transitions

MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_HIGH = (59, 23, 31, 12, 7)  # the last value of each field (7 is Sunday again)
_WEEKDAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")


@functools.lru_cache(maxsize=4096)  # pure; an environment repeats a few expressions
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


class Construct(enum.Enum):
    """Something in an expression beyond numbers, ranges, steps, names and ``*``.

    The value is how a message names it; ``hint`` says how to do without it.
    """

    hint: str

    LAST_DAY = (
        "'L' (last day of the month)",
        "name the days (e.g. 28-31) and let the command check for the last one",
    )
    NEAREST_WEEKDAY = ("'W' (nearest weekday)", "name the days and weekdays explicitly")
    LAST_WEEKDAY = (
        "'L' after a weekday (its last one in the month)",
        "run on that weekday and let the command check it is the month's last",
    )
    NTH_WEEKDAY = (
        "'#' (n-th weekday of the month)",
        "run on that weekday and let the command check which one it is",
    )
    NTH_MIXED = ("'#' next to plain weekdays", "split it into two jobs")
    NUMBER_STEP = ("a step from a single number", "write it as a range")
    SUNDAY_SEVEN = ("7 for Sunday", "write 0 for Sunday")
    STEP_TO_SEVEN = (
        "a day-of-week step from a single number, which reaches 7 (Sunday)",
        "list the days",
    )
    BOTH_DAY_FIELDS = (
        "a day-of-month and a day-of-week together (cron runs when either matches)",
        "split it into two jobs, or leave one of the two fields as *",
    )
    STAR_STEP_DAY = (
        "a stepped '*' day field next to a restricted one (cron runs when both match)",
        "leave the stepped field as * and let the command check it",
    )

    def __new__(cls, text: str, hint: str) -> Construct:
        member = object.__new__(cls)
        member._value_ = text
        member.hint = hint
        return member


class Use(NamedTuple):
    """One use of a construct: the text using it and how to write it without (a hint)."""

    construct: Construct
    token: str
    hint: str


class Dialect(enum.Enum):
    """The cron of one backend (the value is the backend's name), and what it cannot run.

    ``refuses`` maps each construct the backend's cron cannot run as cron means it to what
    that cron does instead; anything else ``cronsim`` accepts, the backend runs.
    """

    label: str
    refuses: Mapping[Construct, str]
    clock_changes: str  # what it does with runs where the clocks change ("" when not known)

    CRONTAB = (
        "crontab",
        "Debian cron",
        {
            Construct.LAST_DAY: "crontab refuses the line ('bad day-of-month')",
            Construct.NEAREST_WEEKDAY: "crontab refuses the line ('bad day-of-month')",
            Construct.LAST_WEEKDAY: "crontab refuses the line ('bad day-of-week')",
            Construct.NTH_WEEKDAY: "cron ignores '#n' and runs on every such weekday",
            Construct.NUMBER_STEP: "crontab refuses the line",
        },
        "",
    )
    TEMPORAL = (
        "temporal",
        "Temporal",
        {
            Construct.LAST_DAY: "the server refuses it ('DayOfMonth is not in range')",
            Construct.NEAREST_WEEKDAY: "the server refuses it ('DayOfMonth is not in range')",
            Construct.LAST_WEEKDAY: "the server refuses it ('DayOfWeek is not in range')",
            Construct.NTH_WEEKDAY: "Temporal ignores '#n' and runs on every such weekday",
            Construct.BOTH_DAY_FIELDS: "Temporal runs only when both match",
        },
        "Temporal skips a run whose local time does not exist and runs a repeated one twice "
        "(Debian cron would run the first right after the change, and the second once)",
    )
    KUBERNETES = (
        "kubernetes",
        "Kubernetes' robfig/cron v3",
        {
            Construct.LAST_DAY: "the API server refuses the CronJob",
            Construct.NEAREST_WEEKDAY: "the API server refuses the CronJob",
            Construct.LAST_WEEKDAY: "the API server refuses the CronJob",
            Construct.NTH_WEEKDAY: "the API server refuses the CronJob",
            Construct.SUNDAY_SEVEN: "the API server refuses it (day-of-week ends at 6)",
            Construct.STEP_TO_SEVEN: "Kubernetes ends the step at 6, so Sunday is dropped",
            Construct.STAR_STEP_DAY: "Kubernetes runs when either day field matches",
        },
        "",
    )
    AIRFLOW = (
        "airflow",
        "Airflow's croniter",
        {
            Construct.NEAREST_WEEKDAY: "croniter refuses it, so the DAG does not load",
            Construct.LAST_WEEKDAY: "croniter refuses it, so the DAG does not load",
            Construct.NTH_MIXED: "croniter refuses it, so the DAG does not load",
            Construct.STEP_TO_SEVEN: "croniter ends the step at 6, so Sunday is dropped",
            Construct.STAR_STEP_DAY: "croniter runs when either day field matches",
        },
        "",
    )
    EXPORT = ("export", "the external scheduler", dict[Construct, str](), "")

    def __new__(
        cls, value: str, label: str, refuses: Mapping[Construct, str], clock_changes: str
    ) -> Dialect:
        member = object.__new__(cls)
        member._value_ = value
        member.label = label
        member.refuses = refuses
        member.clock_changes = clock_changes
        return member

    @classmethod
    def of(cls, backend: str) -> Dialect:
        """The dialect of the backend named ``backend`` (``Mode.backend``)."""
        for dialect in cls:
            if dialect.value == backend:
                return dialect
        raise ValueError(f"no cron dialect for backend '{backend}'")


@functools.lru_cache(maxsize=4096)  # pure; every job of an environment asks it, some twice
def backend_problems(expression: str, backend: str) -> tuple[tuple[str, str], ...]:
    """What the backend's cron cannot run in a valid ``expression``, as (summary, hint) pairs."""
    dialect = Dialect.of(backend)
    found: list[tuple[str, str]] = []
    seen: set[str] = set()
    for use in constructs(expression):
        reason = dialect.refuses.get(use.construct)
        if reason is None or use.token in seen:
            continue
        seen.add(use.token)
        summary = (
            f"the {backend} backend ({dialect.label}) cannot run {use.construct.value}: "
            f"'{use.token}' in '{expression.strip()}'; {reason}"
        )
        found.append((summary, use.hint))
    return tuple(found)


def clock_change_problem(
    expression: str, zone: str, backend: str, start: date
) -> tuple[str, str] | None:
    """The runs of the next year that meet a clock change of ``zone``, for a backend that
    handles them its own way (Temporal); None when there are none or nothing to say."""
    behaviour = Dialect.of(backend).clock_changes
    found = transitions.affected(expression, zone, start) if behaviour else []
    if not found:
        return None
    return (
        f"time zone {zone} changes its clocks where '{expression.strip()}' runs: "
        f"{transitions.describe(found)}; {behaviour}",
        "move the runs out of the hour the clocks change, or use a zone without "
        "daylight saving such as UTC",
    )


def constructs(expression: str) -> Iterator[Use]:
    """Every construct beyond the plain ones in a valid 5-field ``expression``, in field order."""
    fields = expression.split()
    for index, field in enumerate(fields):
        for item in field.split(","):
            body, _, step = item.partition("/")
            if step and body != "*" and "-" not in body:
                end = f"{_value(body, index)}-{_HIGH[index]}/{step}"
                yield Use(Construct.NUMBER_STEP, item, f"write it as a range: '{end}'")
    yield from _day_of_month(fields[2])
    yield from _day_of_week(fields[4])
    yield from _day_fields(fields[2], fields[4])


def _use(construct: Construct, token: str) -> Use:
    return Use(construct, token, construct.hint)


def _day_of_month(field: str) -> Iterator[Use]:
    for item in field.split(","):
        if "W" in item.upper():
            yield _use(Construct.NEAREST_WEEKDAY, item)
        elif "L" in item.upper():
            yield _use(Construct.LAST_DAY, item)


def _day_of_week(field: str) -> Iterator[Use]:
    items = field.split(",")
    if any("#" in item for item in items) and not all("#" in item for item in items):
        yield _use(Construct.NTH_MIXED, field)
    for item in items:
        body, _, step = item.partition("/")
        if "#" in item:
            yield _use(Construct.NTH_WEEKDAY, item)
        elif item.upper().endswith("L"):
            yield _use(Construct.LAST_WEEKDAY, item)
        elif "7" in body.split("-"):
            yield _use(Construct.SUNDAY_SEVEN, item)
        elif step and body != "*" and "-" not in body:
            values = range(_value(body, 4), 8, int(step))
            if 7 in values and 0 not in values:
                listed = ",".join(str(d) for d in sorted({v % 7 for v in values}))
                yield Use(Construct.STEP_TO_SEVEN, item, f"list the days: '{listed}'")


def _day_fields(day_of_month: str, day_of_week: str) -> Iterator[Use]:
    """cron runs when either day field matches unless one of them starts with ``*``."""
    month_star, week_star = day_of_month.startswith("*"), day_of_week.startswith("*")
    both = f"{day_of_month} {day_of_week}"
    if not month_star and not week_star:
        yield _use(Construct.BOTH_DAY_FIELDS, both)
    elif (month_star and day_of_month != "*" and not week_star) or (
        week_star and day_of_week != "*" and not month_star
    ):
        yield _use(Construct.STAR_STEP_DAY, both)


def _value(text: str, index: int) -> int:
    """A field's number or name (month, weekday) as a number."""
    name = text.upper()
    if index == 3 and name in _MONTHS:
        return _MONTHS.index(name) + 1
    if index == 4 and name in _WEEKDAYS:
        return _WEEKDAYS.index(name)
    return int(text)


def timezone_problem(name: str) -> tuple[str, str] | None:
    """Why ``name`` is not an IANA time zone, with a "did you mean" when one is close."""
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        close = difflib.get_close_matches(name, _zone_names(), n=1, cutoff=0.6)
        hint = (
            f"did you mean '{close[0]}'?"
            if close
            else "use an IANA name such as UTC or Asia/Kolkata"
        )
        return f"unknown time zone '{name}'", hint
    return None


@functools.cache
def _zone_names() -> list[str]:
    return sorted(zoneinfo.available_timezones())


_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))
_PROBE_YEARS = range(2024, 2031)


class ZoneError(ValueError):
    """The expression cannot be run in its zone by the target cron."""


@functools.lru_cache(maxsize=1024)  # pure for the process's time-zone database
def fixed_offset_minutes(zone: str) -> int | None:
    """The zone's UTC offset in minutes if it never changes, else None."""
    info = zoneinfo.ZoneInfo(zone)
    offsets = set()
    for year in _PROBE_YEARS:
        for month in (1, 4, 7, 10):
            offset = datetime(year, month, 1, tzinfo=info).utcoffset() or timedelta()
            offsets.add(int(offset.total_seconds()) // 60)
    return offsets.pop() if len(offsets) == 1 else None


@functools.lru_cache(maxsize=4096)  # pure for the process's time-zone database
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
