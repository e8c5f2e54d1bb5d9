"""The overview page ``/``: every environment on one row — its git revision and whether live
follows the branch head or a pinned rollback, the sync mode and state, drift counts by kind,
the last apply with its outcome, the open alerts (the controller's open incidents: kind,
subject, summary, since when) and the last error. Reproduced by ``reconcile status``."""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.controller.status import OpenAlert
from reconciler.web import parts
from reconciler.web.html import Markup, cell, command, el, join, link, page, table
from reconciler.web.views import EnvView

HEADERS = (
    "Environment",
    "Revision",
    "Follows",
    "Mode",
    "Sync",
    "Drift",
    "Open alerts",
    "Last apply",
    "Checked",
)


def render(views: Sequence[EnvView], compare: Markup | None = None) -> str:
    """The overview; ``compare`` links to the compare page (None: one environment only)."""
    rows = [_row(view) for view in views]
    body = (
        el("h1", "Environments"),
        table(HEADERS, rows, id="environments", class_="sortable"),
        el("p", compare) if compare else None,
        el("h2", "The same from the command line"),
        join(command(f"reconcile status --env {view.status.environment}") for view in views),
        el("p", "JSON: ", link("/status", "/status"), class_="dim"),
    )
    return page("Environments", (), *body)


def _row(view: EnvView) -> list[Markup]:
    status, last = view.status, view.last_apply()
    env = status.environment
    return [
        cell(link(f"/env/{env}", env), sort=env, class_="env"),
        cell(parts.revision(status.target_revision)),
        cell(_follows(view)),
        cell(status.mode + (" + self-heal" if status.self_heal else "")),
        cell(parts.state(status.sync_state.value), _why(view), sort=status.sync_state.value),
        cell(parts.drift(status.drift), sort=sum(status.drift.values())),
        cell(_alerts(status.alerts), sort=len(status.alerts)),
        cell(_last_apply(view), sort=last.at if last else ""),
        cell(parts.when(status.last_check)),
    ]


def _follows(view: EnvView) -> Markup:
    held = view.status.pinned
    if held:
        return el(
            "span", f"pinned rollback to {held['requested']} since {held['since']}", class_="pinned"
        )
    return el("span", "branch head")


def _why(view: EnvView) -> Markup | None:
    status = view.status
    reason = status.last_error or status.blocked
    return el("div", reason, class_="reason") if reason else None


def _alerts(alerts: Sequence[OpenAlert]) -> Markup:
    if not alerts:
        return el("span", "none", class_="dim")
    return el("ul", (el("li", _alert(alert), class_="alert") for alert in alerts), class_="alerts")


def _alert(alert: OpenAlert) -> Markup:
    subject, since = el("code", alert.subject), parts.when(alert.since)
    return join([parts.state(alert.kind), " ", subject, " ", alert.summary, " since ", since])


def _last_apply(view: EnvView) -> Markup:
    last = view.last_apply()
    if last is None:
        return el("span", "never", class_="dim")
    return join(
        [parts.state(last.outcome), " ", parts.when(last.at), " ", parts.revision(last.revision)]
    )
