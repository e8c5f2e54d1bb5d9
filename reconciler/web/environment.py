"""The environment page ``/env/<env>``: a table of its jobs — backend, schedule in words with
the next fires in the job's zone and UTC, sync / drift / paused state, last run (time, outcome,
rows), each table's watermark and lag — sorted and filtered in the browser by ``/static/ui.js``,
under the 24-hour calendar strip of the next runs across backends; with the web UI's actions on,
a "Sync now" button (:mod:`reconciler.web.actions`). Reproduced by ``reconcile status --env E``."""

from __future__ import annotations

from collections.abc import Mapping

from reconciler import health
from reconciler.web import calendar, parts
from reconciler.web.html import Markup, action, cell, command, el, join, link, page, table, void
from reconciler.web.snapshot import Snapshot
from reconciler.web.views import EnvView

HEADERS = (
    "Job",
    "Backend",
    "Schedule",
    "Next runs (job's zone, UTC)",
    "State",
    "Last run",
    "Rows",
    "Watermark",
    "Lag",
)


def render(view: EnvView) -> str:
    env, seen = view.status.environment, view.snapshot
    crumbs = (link(f"/env/{env}", env),)
    if seen is None:
        return page(env, crumbs, el("h1", env), _not_compared(view), csrf=view.csrf)
    body = (
        el("h1", f"Environment {env}"),
        el(
            "p",
            f"As of {seen.taken:%Y-%m-%d %H:%M:%S} UTC, revision ",
            parts.revision(seen.revision),
            " · ",
            link(f"/env/{env}/history", "apply history"),
        ),
        action("Sync now", f"/env/{env}/sync", f"/status/{env}") if view.csrf else None,
        el("h2", "Next 24 hours"),
        calendar.render(seen.schedules, seen.taken),
        el("h2", "Jobs"),
        void(
            "input",
            type="search",
            id="filter",
            placeholder="filter jobs…",
            data_table="jobs",
            aria_label="filter jobs",
        ),
        table(HEADERS, (_row(env, seen, s) for s in seen.schedules), id="jobs", class_="sortable"),
        el("h2", "The same from the command line"),
        command(f"reconcile status --env {env}"),
        el("p", "JSON: ", link(f"/status/{env}", f"/status/{env}"), class_="dim"),
    )
    return page(env, crumbs, *body, csrf=view.csrf)


def _not_compared(view: EnvView) -> Markup:
    reason = view.status.last_error or "not compared yet: the first pass is under way"
    return el("p", reason, class_="reason")


def _row(env: str, seen: Snapshot, schedule: health.ScheduleStatus) -> list[Markup]:
    last = schedule.last_run
    return [
        cell(link(f"/env/{env}/job/{schedule.job}", schedule.job), sort=schedule.job),
        cell(schedule.backend),
        cell(schedule.schedule, el("div", el("code", schedule.cron), class_="dim")),
        cell(
            el("ul", (el("li", parts.in_zone(m, schedule.timezone)) for m in schedule.next_runs)),
            sort=_first(schedule),
        ),
        cell(_state(seen, schedule), sort=_state_word(seen, schedule)),
        cell(_last_run(last), sort=last.started.isoformat() if last else ""),
        cell(
            "-" if last is None or last.rows is None else f"{last.rows:,}",
            sort=last.rows if last and last.rows is not None else -1,
        ),
        _watermark(seen.ingested.watermarks.get(schedule.job, {})),
        cell(parts.duration(schedule.lag_seconds), sort=schedule.lag_seconds or 0),
    ]


def _watermark(marks: Mapping[str, str]) -> Markup:
    """The job's tables' watermarks, sorted by the one furthest behind."""
    return cell(parts.watermarks(marks), sort=min(marks.values(), default=""))


def _first(schedule: health.ScheduleStatus) -> str:
    return schedule.next_runs[0].isoformat() if schedule.next_runs else "~"


def _state_word(seen: Snapshot, schedule: health.ScheduleStatus) -> str:
    kinds = sorted({f.kind.value for f in seen.findings_of(schedule.job) if f.counts})
    if kinds:
        return "drift: " + ", ".join(kinds)
    if not schedule.live:
        return "not live"
    return "paused" if schedule.paused else "synced"


def _state(seen: Snapshot, schedule: health.ScheduleStatus) -> Markup:
    """Drift kinds as badges, else synced / paused / not live; an operator's pause note."""
    kinds = sorted({f.kind.value for f in seen.findings_of(schedule.job) if f.counts})
    words = kinds or [_state_word(seen, schedule).replace(" ", "-")]
    note = el("div", schedule.pause_note, class_="dim") if schedule.pause_note else None
    return join([join(parts.state(word) for word in words), note])


def _last_run(last: health.LastRun | None) -> Markup:
    if last is None:
        return el("span", "none seen", class_="dim")
    return join([parts.state(last.outcome), " ", parts.when(last.started)])
