"""``reconcile history --env E``: the applies recorded in the environment's audit log.

One line per apply, oldest first (like ``helm history``): time, apply id, git revision (marked
``+dirty`` when applied from uncommitted files), outcome, number of changes, user, and a note
for a ``reconcile rollback --to REV`` ("rollback to REV") or a ``reconcile pause`` / ``resume``
("pause", "resume (web UI)" when the web UI asked), and the pin that rollback left, if
it holds. Reads ``<state dir>/<env>/audit.jsonl`` and ``pin.json`` only: no backend is
contacted and no lock is taken. ``--limit N`` shows the last N.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.text import Text

from ingestion.exitcodes import ExitCode
from reconciler import audit
from reconciler.cli import common, lazy
from reconciler.model import ApplyStatus

if TYPE_CHECKING:
    from reconciler import engine
    from reconciler.controller import pin
else:
    engine = lazy.module("reconciler.engine")
    pin = lazy.module("reconciler.controller.pin")

LimitOption = Annotated[
    int | None, typer.Option("--limit", "-n", min=1, help="Only the last N applies.")
]
_STYLE = {ApplyStatus.APPLIED: "green", ApplyStatus.UNVERIFIED: "yellow"}


def entries(directory: Path, limit: int | None = None) -> list[dict[str, Any]]:
    """The audit records as history rows, oldest first."""
    rows = [audit.row(entry) for entry in audit.history(directory)]
    return rows[-limit:] if limit else rows


def command(
    env: common.EnvOption,
    limit: LimitOption = None,
    output_format: common.OutputOption = common.Format.TEXT,
    set_: common.SetOption = None,
    root: common.RootOption = None,
    debug: common.DebugOption = False,
) -> None:
    """List the revisions applied to an environment, from its audit log."""
    report = common.Report("history", output_format)

    def body() -> NoReturn:
        environment = common.load(report, root, env, set_)
        state = engine.state_dir(environment)
        rows = entries(state, limit)
        held = pin.read(state)
        report.document.update(
            {"environment": env, "applies": rows, "pin": held.to_json() if held else None}
        )
        text = history_text(env, rows)
        if held is not None:
            text.append(_pin_text(env, held), style="bold yellow")
        report.finish(ExitCode.OK, text)

    common.run(report, body, debug)


def history_text(env: str, rows: list[dict[str, Any]]) -> Text:
    if not rows:
        return Text(f"No applies recorded for environment '{env}'.\n")
    width = max(len("USER"), *(len(row["user"]) for row in rows))
    text = Text()
    text.append(
        f"{'TIME':<25} {'APPLY ID':<26} {'REVISION':<18} {'OUTCOME':<14} {'CHANGES':>7} "
        f"{'USER':<{width}} NOTE\n",
        style="bold",
    )
    for row in rows:
        text.append(f"{row['time']:<25} {row['apply_id']:<26} ")
        text.append(f"{audit.revision_label(row):<18}", style="yellow" if row["dirty"] else "")
        text.append(f" {row['outcome']:<14}", style=_STYLE.get(row["outcome"], "red"))
        text.append(f" {row['changes']:>7} {row['user']:<{width}} {_note(row)}".rstrip() + "\n")
    return text


def _pin_text(env: str, held: pin.Pin) -> str:
    return (
        f"Pinned to {held.requested} ({held.revision[:12]}) since {held.since} by {held.user}: "
        f"the controller keeps it until git catches up or "
        f"`reconcile rollback --env {env} --unpin`.\n"
    )


def _note(row: dict[str, Any]) -> str:
    """A rollback's revision, a pause or resume, and ``(web UI)`` when the UI asked."""
    said = [f"rollback to {row['rollback_to']}" if row["rollback_to"] else "", row["action"] or ""]
    said += ["(web UI)" if row["via"] == "ui" else ""]
    return " ".join(filter(None, said))
