"""When a 5-field cron fires in a time zone, and how a person says it.

The same ``cronsim`` reading of an expression that validation relies on (every construct a
backend would run differently is refused there, so one reading serves every backend), evaluated
in the job's zone: a daylight-saving zone's skipped and repeated hours fall as that zone's wall
clock does. Times in and out are timezone-aware; results are in UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import cronsim

DAYS = ("Sundays", "Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays")


def next_fires(expression: str, zone: str, after: datetime, count: int = 3) -> list[datetime]:
    """The next ``count`` fire times strictly after ``after``, in UTC."""
    clock = cronsim.CronSim(expression, after.astimezone(ZoneInfo(zone)))
    return [next(clock).astimezone(UTC) for _ in range(count)]


def last_fire(expression: str, zone: str, before: datetime) -> datetime:
    """The latest fire time at or before ``before``, in UTC."""
    start = before.astimezone(ZoneInfo(zone)) + timedelta(seconds=1)
    return next(cronsim.CronSim(expression, start, reverse=True)).astimezone(UTC)


def words(expression: str, zone: str) -> str:
    """The schedule as a person says it (``every hour at :30, Asia/Kolkata``); expressions
    beyond the common shapes keep their cron text."""
    minute, hour, day, month, weekday = expression.split()
    every_day = day == "*" and month == "*"
    if minute.isdigit() and hour == "*" and every_day and weekday == "*":
        said = f"every hour at :{int(minute):02}"
    elif minute.startswith("*/") and hour == "*" and every_day and weekday == "*":
        said = f"every {minute[2:]} minutes"
    elif minute.isdigit() and hour.isdigit() and every_day:
        at = f"{int(hour):02}:{int(minute):02}"
        if weekday == "*":
            said = f"every day at {at}"
        elif weekday.isdigit():
            said = f"{DAYS[int(weekday) % 7]} at {at}"
        else:
            said = f"cron {expression}"
    else:
        said = f"cron {expression}"
    return f"{said}, {zone}"
