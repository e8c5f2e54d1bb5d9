"""The history page ``/env/<env>/history``: the environment's audit log as a timeline, newest
first — when, which apply, which revision (``+dirty`` when applied from uncommitted files), the
outcome, how many changes (failed, restored), who applied from where, and rollbacks. Reproduced
by ``reconcile history --env E``."""

from __future__ import annotations

from typing import Any

from reconciler import audit
from reconciler.web import parts
from reconciler.web.html import Markup, cell, command, el, link, page, table
from reconciler.web.views import EnvView

HEADERS = ("Time", "Apply", "Revision", "Outcome", "Changes", "Who", "Note")


def render(view: EnvView) -> str:
    env = view.status.environment
    rows = [_row(audit.row(entry)) for entry in reversed(view.history)]
    crumbs = (link(f"/env/{env}", env), link(f"/env/{env}/history", "history"))
    listing = (
        table(HEADERS, rows, id="history", class_="sortable")
        if rows
        else el("p", "No applies recorded.", class_="dim")
    )
    return page(
        f"{env} history",
        crumbs,
        el("h1", f"Apply history of {env}"),
        listing,
        command(f"reconcile history --env {env}"),
    )


def _row(row: dict[str, Any]) -> list[Markup]:
    changes = f"{row['changes']}" + (f" ({row['failed']} failed)" if row["failed"] else "")
    restored = f"; {row['restored']} restored" if row["restored"] else ""
    note = f"rollback to {row['rollback_to']}" if row["rollback_to"] else ""
    return [
        cell(parts.when(row["time"]), sort=row["time"]),
        cell(el("code", row["apply_id"])),
        cell(el("code", audit.revision_label(row))),
        cell(parts.state(row["outcome"]), sort=row["outcome"]),
        cell(changes + restored, sort=row["changes"]),
        cell(f"{row['user']}@{row['host']}"),
        cell(note),
    ]
