"""Pair desired with live resources and decide the change for each: pure data, no I/O.

Presence decides the action: desired only → create; live only (ours) → delete, with prune;
both and different → update (every backend updates in place: there is no replace; a desired
resource that is not to be Salam's — a restore giving an adopted object back — updates to
release it even when the specs agree); a live
object Salam does not own on a desired key → adopt when that key may be adopted, else a
conflict that blocks applying; a job deleted from one backend and created in another (its mode
changed) → one move. Specs
are compared whole first, so an in-sync resource costs one equality test; only differing pairs
are walked for field-level detail. A ``None`` in a desired spec means "not managed by config":
the live value is kept (an operator's pause, for instance).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping
from typing import Any

from reconciler.model import (
    Action,
    Change,
    ChangeSet,
    DesiredResource,
    FieldChange,
    LiveResource,
    ResourceKey,
)


def compute(
    environment: str,
    desired: Iterable[DesiredResource],
    live: Iterable[LiveResource],
    prune: bool = True,
    adopt: Collection[ResourceKey] = (),
) -> ChangeSet:
    """The change set turning ``live`` into ``desired``: creates/updates first, deletes last.

    ``adopt``: the desired keys whose unmanaged live object is taken over (an ``adopt``
    change) instead of reported as a conflict."""
    wanted = {resource.key: resource for resource in desired}
    present = {resource.key: resource for resource in live}
    changes: list[Change] = []
    conflicts: list[LiveResource] = []
    for key in sorted(wanted.keys() | present.keys()):
        after, before = wanted.get(key), present.get(key)
        if before is not None and not before.managed:
            if after is not None and key in adopt:
                changes.append(_adopt(after, before))
            elif after is not None:
                conflicts.append(before)
            continue
        change = _pair(after, before)
        if change is not None:
            changes.append(change)
    changes = _moves(changes)  # a job leaving one backend for another moves, prune or not
    if not prune:  # without prune, what no job wants any more stays
        changes = [c for c in changes if c.action is not Action.DELETE]
    changes.sort(key=lambda c: (c.action.order, c.key))
    return ChangeSet(environment, tuple(changes), tuple(conflicts))


def _moves(changes: list[Change]) -> list[Change]:
    """Each job created in one backend and deleted (ours) from another, as one move."""
    created = {c.job: c for c in changes if c.action is Action.CREATE}
    moved = {
        c.job: c
        for c in changes
        if c.action is Action.DELETE
        and c.job in created
        and c.key.backend != created[c.job].key.backend
    }
    kept = [
        c for c in changes if c.job not in moved or c.action not in (Action.CREATE, Action.DELETE)
    ]
    for job, deleted in moved.items():
        create = created[job]
        kept.append(Change(create.key, Action.MOVE, deleted.before, create.after, create.fields))
    return kept


def _pair(after: DesiredResource | None, before: LiveResource | None) -> Change | None:
    if before is None:
        assert after is not None
        return Change(after.key, Action.CREATE, None, after, tuple(field_changes({}, after.spec)))
    if after is None:
        return Change(before.key, Action.DELETE, before, None)
    resolved = _resolved(after, before)
    if resolved.spec == before.spec and after.owned:
        return Change(after.key, Action.NOOP, before, resolved)
    fields = tuple(field_changes(before.spec, resolved.spec))
    return Change(after.key, Action.UPDATE, before, resolved, fields)  # unowned: a release


def _adopt(after: DesiredResource, before: LiveResource) -> Change:
    """Take ``before`` over in place: Salam's marker added, the fields the job sets written."""
    resolved = _resolved(after, before)
    fields = tuple(field_changes(before.spec, resolved.spec))
    return Change(after.key, Action.ADOPT, before, resolved, fields)


def _resolved(after: DesiredResource, before: LiveResource) -> DesiredResource:
    """``after`` with the values the config leaves unset taken from ``before``."""
    spec = keep_unmanaged(after.spec, before.spec)
    return DesiredResource(after.key, after.job, spec, after.meta, after.owned)


def keep_unmanaged(desired: Mapping[str, Any], live: Mapping[str, Any]) -> dict[str, Any]:
    """``desired`` with every ``None`` replaced by the live value at the same place."""
    merged: dict[str, Any] = {}
    for key, value in desired.items():
        below = live.get(key) if isinstance(live, Mapping) else None
        if value is None:
            merged[key] = below
        elif isinstance(value, Mapping) and isinstance(below, Mapping):
            merged[key] = keep_unmanaged(value, below)
        else:
            merged[key] = value
    return merged


def field_changes(before: Any, after: Any, path: str = "") -> Iterator[FieldChange]:
    """Leaf-level differences between two JSON-like values, as dotted paths, in sorted order.

    Lists of equal length are compared element by element (``command[3]``); lists whose length
    changed are one field. A walker rather than deepdiff: deepdiff 9 named the same fields but
    was 12-25x slower on differing specs (it builds a node object for every key it visits).
    """
    if (
        isinstance(before, Mapping | None)
        and isinstance(after, Mapping | None)
        and (before or after)
    ):
        before, after = before or {}, after or {}
        for key in sorted(set(before) | set(after)):
            yield from field_changes(
                before.get(key), after.get(key), f"{path}.{key}" if path else key
            )
        return
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        for index, (old, new) in enumerate(zip(before, after, strict=True)):
            yield from field_changes(old, new, f"{path}[{index}]")
        return
    if before != after:
        yield FieldChange(path or "$", before, after)
