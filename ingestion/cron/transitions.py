"""The runs of a cron expression that fall where a time zone's clocks change.

On a spring-forward day the local times of the skipped hour do not exist; on a fall-back day
those of the repeated hour happen twice. Schedulers treat such runs differently (Temporal skips
a time that does not exist and runs a repeated one twice; Debian cron runs a skipped fixed-time
job right after the change and a repeated one once), so config validation warns about the ones
a schedule will meet. :func:`affected` finds them with ``zoneinfo`` for a window of days,
:func:`describe` words them. Pure: the caller passes the first day.
"""

from __future__ import annotations

import enum
import zoneinfo
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import cronsim

SHOWN_TIMES = 3


class Change(enum.Enum):
    """Which way the clocks go; the value words what happens to the local times between."""

    SKIPPED = "does not exist"
    REPEATED = "happens twice"


@dataclass(frozen=True)
class Transition:
    """One clock change a schedule meets: the local day, which way, and the runs it touches."""

    day: date
    change: Change
    times: tuple[time, ...]


def affected(expression: str, zone: str, start: date, days: int = 366) -> list[Transition]:
    """The clock changes of ``zone`` from ``start`` on for ``days`` days that touch a run."""
    found = []
    for instant, before, after in _changes(zoneinfo.ZoneInfo(zone), start, days):
        local = instant + before  # the wall clock just before the change
        if after > before:
            change, first, last = Change.SKIPPED, local, local + (after - before)
        else:
            change, first, last = Change.REPEATED, local - (before - after), local
        times = tuple(_runs(expression, first, last))
        if times:
            found.append(Transition(first.date(), change, times))
    return found


def describe(transitions: Sequence[Transition]) -> str:
    """``2027-03-14 02:30 does not exist; 2026-11-01 01:00, 01:30 happen twice``-style text."""
    parts = []
    for transition in sorted(transitions, key=lambda t: t.day):
        shown = ", ".join(t.strftime("%H:%M") for t in transition.times[:SHOWN_TIMES])
        more = len(transition.times) - SHOWN_TIMES
        if more > 0:
            shown += f" and {more} more"
        verb = transition.change.value
        if len(transition.times) > 1:
            verb = verb.replace("does not", "do not").replace("happens", "happen")
        parts.append(f"{transition.day.isoformat()} {shown} {verb}")
    return "; ".join(parts)


def _changes(
    info: zoneinfo.ZoneInfo, start: date, days: int
) -> Iterator[tuple[datetime, timedelta, timedelta]]:
    """Each offset change as (UTC instant, offset before, offset after), in order."""
    instant = datetime(start.year, start.month, start.day, tzinfo=UTC)
    for _ in range(days):
        following = instant + timedelta(days=1)
        before, after = _offset(info, instant), _offset(info, following)
        if before != after:
            yield _bisect(info, instant, following), before, after
        instant = following


def _bisect(info: zoneinfo.ZoneInfo, low: datetime, high: datetime) -> datetime:
    """The first minute in ``(low, high]`` whose offset is ``high``'s."""
    target = _offset(info, high)
    while high - low > timedelta(minutes=1):
        middle = low + (high - low) / 2
        middle = middle.replace(second=0, microsecond=0)
        if middle <= low:
            break
        if _offset(info, middle) == target:
            high = middle
        else:
            low = middle
    return high


def _offset(info: zoneinfo.ZoneInfo, instant: datetime) -> timedelta:
    return instant.astimezone(info).utcoffset() or timedelta()


def _runs(expression: str, first: datetime, last: datetime) -> Iterator[time]:
    """The wall-clock times in ``[first, last)`` the expression names (wall clock as UTC)."""
    clock = cronsim.CronSim(expression, first - timedelta(minutes=1))
    for moment in clock:
        if moment >= last:
            return
        if moment >= first:
            yield moment.time()
