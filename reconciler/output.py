"""Render diagnostics and change sets for people (Terraform-like text) and machines (JSON).

The differ produces data (:mod:`reconciler.diff`); this module only formats it. Colour is used
only when the stream is a terminal. Values shown are those of plans and canonical specs, which
never hold secrets.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from rich.console import Console
from rich.text import Text

from ingestion.config.diagnostics import Diagnostic, Severity
from reconciler.model import Action, Change, ChangeSet, LiveResource, Result

_STYLE = {
    Action.CREATE: "green",
    Action.UPDATE: "yellow",
    Action.REPLACE: "magenta",
    Action.DELETE: "red",
    Action.NOOP: "dim",
}


def console(stderr: bool = False) -> Console:
    """A console that colours only on a terminal and never wraps lines."""
    return Console(stderr=stderr, soft_wrap=True, highlight=False)


def diagnostics_text(diagnostics: Iterable[Diagnostic]) -> Text:
    text = Text()
    for diagnostic in diagnostics:
        style = "red" if diagnostic.severity is Severity.ERROR else "yellow"
        text.append(diagnostic.render() + "\n", style=style)
    return text


MAX_VALUE = 160


def value(item: Any) -> str:
    """A compact, deterministic rendering of one field value, shortened past MAX_VALUE
    characters (``--output json`` always carries the whole value)."""
    if item is None:
        return "(none)"
    if isinstance(item, str):
        text = json.dumps(item, ensure_ascii=False)
    else:
        text = json.dumps(item, sort_keys=True, separators=(",", ": "), ensure_ascii=False)
    if len(text) <= MAX_VALUE:
        return text
    return f"{text[: MAX_VALUE - 40]}… ({len(text)} characters; --output json shows all)"


def change_text(change: Change) -> Text:
    text = Text()
    text.append(f"  {change.action.value} {change.key}", style=_STYLE[change.action])
    text.append(f"  ({change.action.verb}, job {change.job})\n", style="dim")
    if change.before is not None and change.before.paused:
        text.append("      ! paused by an operator outside Salam\n", style="yellow")
    for field in change.fields:
        if change.action is Action.CREATE:
            text.append(f"      + {field.path} = {value(field.after)}\n", style="green")
        else:
            text.append(
                f"      ~ {field.path}: {value(field.before)} -> {value(field.after)}\n",
                style="yellow",
            )
    return text


def summary(change_set: ChangeSet) -> str:
    created = change_set.count(Action.CREATE)
    updated = change_set.count(Action.UPDATE)
    replaced = change_set.count(Action.REPLACE)
    deleted = change_set.count(Action.DELETE)
    line = f"{created} to create, {updated} to update, {deleted} to delete"
    return line + (f", {replaced} to replace" if replaced else "")


def change_set_text(change_set: ChangeSet, paused: Sequence[LiveResource] = ()) -> Text:
    text = Text()
    pending = change_set.pending()
    if not pending:
        text.append(
            f"No changes: environment '{change_set.environment}' is in sync.\n", style="green"
        )
    else:
        text.append(f"Change set for environment '{change_set.environment}':\n", style="bold")
        for change in pending:
            text.append_text(change_text(change))
    for resource in paused:
        text.append(
            f"  ! {resource.key} is paused by an operator; Salam keeps it paused\n", style="yellow"
        )
    for conflict in change_set.conflicts:
        text.append(
            f"  ! {conflict.key} exists but is not managed by Salam: left untouched\n", style="red"
        )
    if pending:
        text.append(summary(change_set) + ".\n", style="bold")
    return text


def results_text(results: Sequence[Result]) -> Text:
    text = Text()
    for result in results:
        if result.ok:
            text.append(
                f"  {result.change.action.value} {result.change.key}: "
                f"{result.change.action.verb}d\n"
            )
        else:
            text.append(
                f"  ! {result.change.key}: {result.change.action.verb} failed: {result.error}\n",
                style="red",
            )
    return text


def change_json(change: Change) -> dict[str, Any]:
    return {
        "key": str(change.key),
        "backend": change.key.backend,
        "scope": change.key.scope,
        "name": change.key.name,
        "job": change.job,
        "action": change.action.verb,
        "symbol": change.action.value,
        "paused_by_operator": bool(change.before and change.before.paused),
        "fields": [{"path": f.path, "before": f.before, "after": f.after} for f in change.fields],
    }


def change_set_json(change_set: ChangeSet) -> dict[str, Any]:
    return {
        "environment": change_set.environment,
        "changes": [change_json(c) for c in change_set.pending()],
        "in_sync": [str(c.key) for c in change_set.changes if c.action is Action.NOOP],
        "conflicts": [str(c.key) for c in change_set.conflicts],
        "summary": {a.verb: change_set.count(a) for a in Action if a is not Action.NOOP},
    }


def results_json(results: Sequence[Result]) -> list[dict[str, Any]]:
    return [
        {"key": str(r.change.key), "action": r.change.action.verb, "ok": r.ok, "error": r.error}
        for r in results
    ]


def dumps(document: Any) -> str:
    return json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False, default=str) + "\n"
