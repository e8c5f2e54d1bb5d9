"""The job page ``/env/<env>/job/<job>``: what the job is (description, config file), its
schedules' health, the field-level difference between live and the plan — the CLI's change-set
renderer (:func:`reconciler.output.change_text`) — with the drift findings, the rendered plan,
the live objects in canonical form, the job's recent runs (time, outcome, rows, run id, from the
ingestion events) and its tables' watermarks, the applies that touched the job (audit log), and
the CLI command that reproduces each view; with the web UI's actions on, a "Pause" or "Resume"
button (:mod:`reconciler.web.actions`). A live value that holds a literal secret (written by
hand) is shown as :data:`reconciler.output.REDACTED`, as in the CLI's JSON."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from reconciler import audit, health, output
from reconciler.web import parts
from reconciler.web.html import (
    Markup,
    action,
    code_block,
    command,
    definitions,
    el,
    join,
    link,
    page,
    rich_text,
    table,
)
from reconciler.web.snapshot import Snapshot
from reconciler.web.views import EnvView


def render(view: EnvView, job: str) -> str | None:
    """The page, or None when the environment has no such job."""
    env, seen = view.status.environment, view.snapshot
    if seen is None or job not in seen.plans:
        return None
    crumbs = (link(f"/env/{env}", env), link(f"/env/{env}/job/{job}", job))
    config = seen.configs.get(job, {})
    body = (
        el("h1", f"Job {job}"),
        el("p", config.get("description") or "(no description)", class_="description"),
        definitions(
            {
                "Config": el("code", config.get("path", "")),
                "Revision": parts.revision(seen.revision),
                "As of": parts.when(seen.taken),
            }
        ),
        _pause_button(env, seen, job) if view.csrf else None,
        *_difference(env, seen, job),
        *_schedules(env, seen, job),
        *_runs(seen, job),
        el("h2", "Rendered plan"),
        el(
            "details",
            el("summary", "the orchestration plan, as rendered from git"),
            code_block(output.dumps(seen.plans[job]), class_="plan"),
        ),
        command(f"python -m ingestion --config {config.get('path', '')} --dump-orchestration-plan"),
        *_live(env, seen, job),
        *_history(env, view.history, _keys(seen, job)),
    )
    return page(job, crumbs, *body, csrf=view.csrf)


def _pause_button(env: str, seen: Snapshot, job: str) -> Markup | None:
    """Resume when an operator paused a schedule of the job, else Pause (none: nothing live, or
    a backend that cannot hold it paused)."""
    live = seen.live_of(job)
    if not live or job not in seen.pausable:
        return None
    verb = "resume" if any(r.paused for r in live) else "pause"
    ask = "Why pause it? (kept with the pause, shown by drift and here)"
    return action(
        verb.capitalize(), f"/env/{env}/job/{job}/{verb}", ask=ask if verb == "pause" else None
    )


def _difference(env: str, seen: Snapshot, job: str) -> Iterable[Markup]:
    yield el("h2", "Difference (live → plan)")
    changes = seen.changes_of(job)
    if not changes:
        yield el("p", parts.state("synced"), " live matches the plan", class_="in-sync")
    for change in changes:
        yield rich_text(output.change_text(change))
    found = seen.findings_of(job)
    if found:
        rows = [
            (
                parts.state(f.kind.value),
                str(f.key),
                "ignored: " + "; ".join(f.reasons) if f.accepted else "counts",
            )
            for f in found
        ]
        yield table(("Drift", "Resource", ""), rows, class_="findings")
    yield command(f"reconcile --env {env} --dry-run --job {job}")
    yield command(f"reconcile drift --env {env} --job {job}")


def _schedules(env: str, seen: Snapshot, job: str) -> Iterable[Markup]:
    yield el("h2", "Schedule")
    for schedule in seen.schedules_of(job):
        last = schedule.last_run
        yield definitions(
            {
                "Resource": el("code", schedule.resource),
                "Schedule": f"{schedule.schedule} ({schedule.cron})",
                "Next runs": el(
                    "ul",
                    (el("li", parts.in_zone(m, schedule.timezone)) for m in schedule.next_runs),
                ),
                "Paused": f"yes: {schedule.pause_note or 'no note'}" if schedule.paused else "no",
                "Last run": "none seen"
                if last is None
                else join(
                    [
                        parts.state(last.outcome),
                        " ",
                        parts.when(last.started),
                        f" rows {last.rows}" if last.rows is not None else "",
                    ]
                ),
                "Lag": parts.duration(schedule.lag_seconds),
            }
        )
    yield command(f"reconcile status --env {env} --job {job}")


RUN_HEADERS = ("Started", "Ended", "Outcome", "Rows", "Run id")


def _runs(seen: Snapshot, job: str) -> Iterable[Markup]:
    """The job's recent runs, newest first, and each of its tables' latest watermark."""
    yield el("h2", "Recent runs")
    runs = seen.recent_runs.get(job, ())
    if runs:
        yield table(RUN_HEADERS, (_run_row(run) for run in reversed(runs)), class_="runs")
    else:
        yield el("p", "none in the ingestion events", class_="dim")
    yield el("h3", "Watermarks")
    yield parts.watermarks(seen.ingested.watermarks.get(job, {}))


def _run_row(run: health.LastRun) -> list[Markup]:
    return [
        parts.when(run.started),
        parts.when(run.ended),
        parts.state(run.outcome),
        el("span", "-" if run.rows is None else f"{run.rows:,}"),
        el("code", run.run_id or "-"),
    ]


def _live(env: str, seen: Snapshot, job: str) -> Iterable[Markup]:
    yield el("h2", "Live objects (canonical form)")
    resources = seen.live_of(job)
    if not resources:
        yield el("p", "none: nothing live for this job", class_="dim")
    for resource in resources:
        yield el("h3", el("code", str(resource.key)), " paused" if resource.paused else "")
        yield code_block(output.dumps(redacted(resource.spec)), class_="live")
    yield command(f"reconcile --env {env} --dry-run --job {job} --output json")


def redacted(value: Any, path: str = "") -> Any:
    """A live spec with every literal secret replaced (:func:`reconciler.output.shown`)."""
    if isinstance(value, dict):
        return {k: redacted(v, f"{path}.{k}" if path else k) for k, v in value.items()}
    if isinstance(value, list):
        return [redacted(v, f"{path}[{i}]") for i, v in enumerate(value)]
    return output.shown(path, value)


def _keys(seen: Snapshot, job: str) -> set[str]:
    """The job's resources, as the audit log names them."""
    return {s.resource for s in seen.schedules_of(job)} | {str(r.key) for r in seen.live_of(job)}


def _history(env: str, history: list[dict[str, Any]], keys: set[str]) -> Iterable[Markup]:
    yield el("h2", "Applies that touched this job")
    rows = [_apply_row(entry, keys) for entry in reversed(history) if _touched(entry, keys)]
    if rows:
        headers = ("Time", "Apply", "Revision", "Outcome", "Changes", "User")
        yield table(headers, rows, class_="history")
    else:
        yield el("p", "none recorded", class_="dim")
    yield command(f"reconcile history --env {env}")


def _touched(entry: dict[str, Any], keys: set[str]) -> list[dict[str, Any]]:
    return [change for change in entry.get("changes") or [] if change.get("key") in keys]


def _apply_row(entry: dict[str, Any], keys: set[str]) -> list[Any]:
    row = audit.row(entry)
    actions = ", ".join(f"{c['action']} {c['key']}" for c in _touched(entry, keys))
    return [
        parts.when(row["time"]),
        el("code", row["apply_id"]),
        audit.revision_label(row),
        parts.state(row["outcome"]),
        actions,
        row["user"],
    ]
