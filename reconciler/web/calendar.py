"""The 24-hour calendar strip of an environment page: every job's next runs, one lane per job,
coloured by backend, so heavy jobs that fire together across crontab and Temporal show as a
column. Drawn as SVG whose geometry is attributes, not styles (the CSP allows no inline style).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta

from ingestion.cron import fires
from reconciler.health import ScheduleStatus
from reconciler.web import parts
from reconciler.web.html import Markup, el

SPAN = timedelta(hours=24)
LIMIT = (
    288  # fires drawn per job (every 5 minutes); an every-minute job is drawn as its first day part
)
WIDTH, LANE, LABEL = 1000, 18, 180


def runs_within(schedule: ScheduleStatus, now: datetime) -> list[datetime]:
    """The job's fire times in the next 24 h (none when paused or not live)."""
    if schedule.paused or not schedule.cron:
        return []
    ahead = fires.next_fires(schedule.cron, schedule.timezone, now, LIMIT)
    return [moment for moment in ahead if moment < now + SPAN]


def render(schedules: Sequence[ScheduleStatus], now: datetime) -> Markup:
    height = LANE * (len(schedules) + 1)
    body = [*_hours(now, height), *(_lane(i, s, now) for i, s in enumerate(schedules))]
    return el(
        "svg",
        el("title", "the next 24 hours of runs, UTC"),
        body,
        viewBox=f"0 0 {WIDTH} {height}",
        class_="calendar",
        role="img",
        xmlns="http://www.w3.org/2000/svg",
    )


def _x(moment: datetime, now: datetime) -> float:
    return round(LABEL + (WIDTH - LABEL) * (moment - now) / SPAN, 1)


def _hours(now: datetime, height: int) -> Iterator[Markup]:
    first = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    for step in range(0, 24, 3):
        moment = first + timedelta(hours=step)
        x = _x(moment, now)
        yield el("line", x1=x, x2=x, y1=0, y2=height, class_="hour")
        yield el("text", f"{moment:%H:%M}", x=x + 2, y=height - 4, class_="hour")


def _lane(index: int, schedule: ScheduleStatus, now: datetime) -> Markup:
    y = index * LANE
    ticks = [_tick(moment, y, schedule, now) for moment in runs_within(schedule, now)]
    label = el("text", f"{schedule.job} ({schedule.backend})", x=4, y=y + LANE - 5, class_="job")
    return el("g", label, ticks, class_=f"lane {schedule.backend}")


def _tick(moment: datetime, y: int, schedule: ScheduleStatus, now: datetime) -> Markup:
    title = el("title", f"{schedule.job}: {parts.in_zone(moment, schedule.timezone)}")
    return el("rect", title, x=_x(moment, now), y=y + 3, width=3, height=LANE - 6, class_="run")
