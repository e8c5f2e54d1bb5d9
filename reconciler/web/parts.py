"""Small renderings several pages share: revisions, states, times, durations, drift counts,
a job's tables' watermarks.

Each takes a value of the status model and returns :class:`~reconciler.web.html.Markup`; the
state names are the model's own (``synced``, ``out-of-sync``, ``succeeded``…), which the
stylesheet colours by class.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

from reconciler.web.html import Markup, el


def revision(value: str | None) -> Markup:
    if not value:
        return el("span", "-", class_="dim")
    return el("code", value[:12], title=value, class_="revision")


def state(value: str) -> Markup:
    """A state as a coloured badge (the class is the state's name)."""
    return el("span", value, class_=f"badge {value}")


def when(value: str | datetime | None) -> Markup:
    if value is None:
        return el("span", "-", class_="dim")
    moment = (
        datetime.fromisoformat(value.replace("Z", "+00:00")) if isinstance(value, str) else value
    )
    return el("time", moment.strftime("%Y-%m-%d %H:%M:%S %Z").strip(), datetime=moment.isoformat())


def in_zone(moment: datetime, zone: str) -> str:
    """``2026-12-07 11:30 IST (06:00 UTC)``: a fire time in the job's zone and in UTC."""
    local = moment.astimezone(ZoneInfo(zone))
    utc = moment.astimezone(ZoneInfo("UTC"))
    return f"{local:%Y-%m-%d %H:%M %Z} ({utc:%H:%M} UTC)"


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    minutes, rest = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{rest:02d}s"


def drift(counts: Mapping[str, int]) -> Markup:
    if not counts:
        return el("span", "none", class_="dim")
    return el(
        "ul",
        (el("li", f"{kind}: {n}", class_=f"drift {kind}") for kind, n in counts.items()),
        class_="counts",
    )


def watermarks(marks: Mapping[str, str]) -> Markup:
    """Each table's latest committed watermark (``table: time``), by table."""
    if not marks:
        return el("span", "none recorded", class_="dim")
    return el(
        "ul",
        (el("li", el("code", table), " ", when(at)) for table, at in sorted(marks.items())),
        class_="watermarks",
    )
