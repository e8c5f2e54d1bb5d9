"""Render diagnostics and change sets for people (Terraform-like text) and machines (JSON).

The differ produces data (:mod:`reconciler.diff`); this module only formats it. Colour is used
only when the stream is a terminal. Values shown are those of plans and canonical specs, which
never hold secrets.

The change-set text shows what a person changed: fields derived from others (:class:`Derived`:
a plan's bookkeeping, a managed file's text lines) are left out, and a resource whose only
differences are derived gets one line saying why it changes. ``--output json`` keeps every field.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from rich.console import Console
from rich.text import Text

from ingestion.config import secrets
from ingestion.config.diagnostics import Diagnostic, Severity
from reconciler import diff
from reconciler.model import (
    Action,
    Change,
    ChangeSet,
    FieldChange,
    LiveResource,
    Result,
    ResultStatus,
)

_STYLE = {
    Action.CREATE: "green",
    Action.ADOPT: "cyan",
    Action.MOVE: "magenta",
    Action.UPDATE: "yellow",
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


class Derived(enum.Enum):
    """Spec fields no person sets, by path; the note says why a resource with no other change
    changes. The first member whose pattern matches a path wins.

    ``DIGEST``: a plan's ``bookkeeping`` (digest, config_sha256, config path, generator), carried
    in Temporal's ``action.args[0]`` and the export file's ``plan``: it changes with any edit of
    the job config, even a comment. ``FILE_TEXT``: the numbered ``source`` lines of an airflow or
    export file spec, the file's text beside its semantic fields (``dag``, ``plan``), kept so that
    a file is re-created exactly and any hand edit, even a comment, shows as drift.
    """

    DIGEST = ("plan digest changed", r"(^|\.)bookkeeping(\.|\[|$)")
    FILE_TEXT = ("file text differs", r"^source\.L\d+$")

    def __init__(self, note: str, pattern: str) -> None:
        self.note = note
        self.pattern = re.compile(pattern)

    @classmethod
    def of(cls, path: str) -> Derived | None:
        """The kind of derived field at ``path``; None for a field a person sets."""
        return next((kind for kind in cls if kind.pattern.search(path)), None)

    @classmethod
    def reason(cls, fields: Iterable[FieldChange]) -> Derived | None:
        """The first kind (in member order) among ``fields``; None when none is derived."""
        kinds = {cls.of(f.path) for f in fields}
        return next((kind for kind in cls if kind in kinds), None)


_PAUSE_FIELDS = ("paused", "suspend")


def _resumes(change: Change) -> bool:
    """Whether the change lifts the operator's pause (Temporal ``state.paused``, a CronJob's
    ``spec.suspend``): the job config says ``paused: false`` / ``suspend: false``."""
    return any(
        f.path.rsplit(".", 1)[-1] in _PAUSE_FIELDS and f.before is True and f.after is False
        for f in change.fields
    )


def change_text(change: Change) -> Text:
    """One pending change: its header, then the fields a person changed (see :class:`Derived`)."""
    text = Text()
    text.append(f"  {change.action.value} {change.key}", style=_STYLE[change.action])
    text.append(f"  ({change.action.verb}, job {change.job})\n", style="dim")
    if change.before is not None and change.before.paused:
        resumes = "; this apply resumes it (the job config says so)" if _resumes(change) else ""
        text.append(f"      ! paused by an operator outside Salam{resumes}\n", style="yellow")
    if change.action is Action.ADOPT:
        text.append(
            "      <= exists, not yet Salam's: taken over in place (marker added, not recreated)\n",
            style="cyan",
        )
    if change.action is Action.MOVE and change.before is not None:
        text.append(
            f"      -> from {change.before.key}: the new one created paused, the old one removed\n"
            "         between two fire times (after a run in flight), the new one resumed\n",
            style="magenta",
        )
    shown = person_fields(change)
    for field in shown:
        text.append_text(_field_text(change.action, field))
    created = change.action in (Action.CREATE, Action.MOVE)
    reason = None if shown or created else Derived.reason(change.fields)
    if reason is not None:
        text.append(f"      ~ {reason.note}\n", style="yellow")
    return text


def person_fields(change: Change) -> list[FieldChange]:
    """The fields of a change as a person reads them: derived ones left out, and a created
    list of mappings (a Temporal schedule's ``action.args``) listed leaf by leaf."""
    fields: Iterable[FieldChange] = change.fields
    if change.action in (Action.CREATE, Action.MOVE):
        fields = [leaf for field in fields for leaf in _created_leaves(field)]
    return [f for f in fields if Derived.of(f.path) is None]


def _created_leaves(field: FieldChange) -> Iterable[FieldChange]:
    after = field.after
    if isinstance(after, list) and any(isinstance(item, Mapping) for item in after):
        return diff.field_changes([None] * len(after), after, field.path)
    return (field,)


def _field_text(action: Action, field: FieldChange) -> Text:
    before, after = value(shown(field.path, field.before)), value(shown(field.path, field.after))
    if action in (Action.CREATE, Action.MOVE):
        return Text(f"      + {field.path} = {after}\n", style="green")
    return Text(f"      ~ {field.path}: {before} -> {after}\n", style="yellow")


REDACTED = "(a literal secret: not shown)"
_PAIR = re.compile(r"""["']?(\w+)["']?\s*[:=]\s*["']([^"']*)["']""")


def shown(path: str, item: Any) -> Any:
    """``item``, or :data:`REDACTED` where it holds a literal secret: a string at a path naming a
    secret (``…webhook``, ``…password``), or a file text line whose ``key: "value"`` pair does,
    unless the value is a secret reference. Values written by hand into a live object are
    never echoed, in text or JSON."""
    if not isinstance(item, str):
        return item
    pairs = _PAIR.findall(item) if Derived.of(path) is Derived.FILE_TEXT else []
    pairs.append((re.split(r"[.\[]", path)[-1], item))
    secret = any(secrets.is_secret_key(k) and not secrets.is_reference(v) for k, v in pairs)
    return REDACTED if secret else item


def conflict_text(conflict: LiveResource) -> Text:
    """A live object Salam does not own on a key a job wants: never touched, blocks applying."""
    text = Text()
    text.append(f"  ! {conflict.key}", style="red")
    text.append(f"  (conflict, job {conflict.job})\n", style="dim")
    text.append(
        "      exists but is not managed by Salam: left untouched; nothing is applied until the\n"
        "      job is renamed, the object removed, or the job says adopt: true (or --adopt)\n",
        style="red",
    )
    return text


def summary(change_set: ChangeSet) -> str:
    created = change_set.count(Action.CREATE)
    updated = change_set.count(Action.UPDATE)
    deleted = change_set.count(Action.DELETE)
    adopted = change_set.count(Action.ADOPT)
    line = f"{created} to create, {updated} to update, {deleted} to delete"
    moved = change_set.count(Action.MOVE)
    if adopted or moved:
        line = f"{created} to create, {adopted} to adopt, {updated} to update, {deleted} to delete"
    if moved:
        line += f", {moved} to move"
    conflicts = len(change_set.conflicts)
    if conflicts == 1:
        line += "; 1 conflict blocks applying"
    elif conflicts:
        line += f"; {conflicts} conflicts block applying"
    return line


def change_set_text(change_set: ChangeSet, paused: Sequence[LiveResource] = ()) -> Text:
    """The change set for a person; ``paused`` lists the resources an operator paused (those
    with a pending change say so under it)."""
    text = Text()
    pending = change_set.pending()
    if change_set.in_sync:
        text.append(
            f"No changes: environment '{change_set.environment}' is in sync.\n", style="green"
        )
    else:
        text.append(f"Change set for environment '{change_set.environment}':\n", style="bold")
    for change in pending:
        text.append_text(change_text(change))
    for conflict in change_set.conflicts:
        text.append_text(conflict_text(conflict))
    shown = {c.key for c in pending} | {c.key for c in change_set.conflicts}
    for resource in paused:
        if resource.key not in shown:
            text.append(
                f"  ! {resource.key} is paused by an operator outside Salam; it stays paused\n",
                style="yellow",
            )
    if not change_set.in_sync:
        text.append(summary(change_set) + ".\n", style="bold")
    return text


def results_text(results: Sequence[Result]) -> Text:
    text = Text()
    for result in results:
        text.append_text(_result_line(result))
    return text


def _result_line(result: Result) -> Text:
    change = result.change
    if result.status is ResultStatus.APPLIED and change.after and not change.after.owned:
        return Text(f"  => {change.key}: given back as it was before the adopt, not Salam's\n")
    if result.status is ResultStatus.APPLIED:
        return Text(f"  {change.action.value} {change.key}: {change.action.done}\n")
    if result.status is ResultStatus.SKIPPED:
        return Text(f"  ! {change.key}: {change.action.verb} skipped: {result.error}\n", "yellow")
    return Text(f"  ! {change.key}: {change.action.verb} failed: {result.error}\n", "red")


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
        "fields": [
            {"path": f.path, "before": shown(f.path, f.before), "after": shown(f.path, f.after)}
            for f in change.fields
        ],
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
        {
            "key": str(r.change.key),
            "action": r.change.action.verb,
            "status": r.status.value,
            "ok": r.ok,
            "error": r.error,
        }
        for r in results
    ]


def dumps(document: Any) -> str:
    return json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False, default=str) + "\n"
