"""Drift: how live state differs from what the config says, classified; pure data, no I/O.

:func:`classify` reads what a read-only engine session already computed (the change set diffed
with prune, and the live resources) and names every difference:

- ``modified``: ours and present, but fields differ (with each field's live and config value);
- ``missing``: in config, not live (someone deleted it, or it was never applied);
- ``orphan``: carries our marker, but its job is gone from config;
- ``foreign``: not ours, but its name collides with a desired one (``ChangeSet.conflicts``,
  or an ``adopt`` change: the job may take it over, but has not yet);
- ``paused``: paused by an operator outside Salam (``LiveResource.paused``).

An operator's pause is one finding on every backend: when the config sets the pause field
explicitly (``paused: false``, ``suspend: false``), the field that pause changed
(:data:`PAUSE_FIELDS`) is shown under the ``paused`` finding, not as a ``modified`` one. A
resource has two findings only when something else differs too. :func:`apply_ignores`
then marks accepted drift from the environment's ``drift.ignore`` rules: a rule matches when
every selector it sets matches; a ``field`` selector hides only the matching fields of a
``modified`` finding, which is ignored as a whole only when no field is left.
"""

from __future__ import annotations

import enum
import fnmatch
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from reconciler.model import Action, Change, ChangeSet, FieldChange, LiveResource, ResourceKey

# Where each backend's canonical spec holds its pause: a Temporal schedule's, a CronJob's.
PAUSE_FIELDS = frozenset({"state.paused", "suspend"})


class Kind(enum.StrEnum):
    MODIFIED = "modified"
    MISSING = "missing"
    ORPHAN = "orphan"
    FOREIGN = "foreign"
    PAUSED = "paused"


@dataclass(frozen=True)
class Rule:
    """One ``drift.ignore`` entry of environment.yaml."""

    reason: str
    backend: str | None = None
    job: str | None = None
    kind: Kind | None = None
    field: str | None = None

    @classmethod
    def from_settings(cls, entry: Mapping[str, Any]) -> Rule:
        kind = entry.get("kind")
        return cls(
            reason=str(entry["reason"]),
            backend=entry.get("backend"),
            job=entry.get("job"),
            kind=Kind(kind) if kind else None,
            field=entry.get("field"),
        )

    def selects(self, finding: Finding) -> bool:
        """Whether backend, job and kind (those the rule sets) match; ``field`` is separate."""
        if self.field is not None and finding.kind is not Kind.MODIFIED:
            return False
        return (
            (self.backend is None or self.backend == finding.key.backend)
            and (self.job is None or fnmatch.fnmatchcase(finding.job, self.job))
            and (self.kind is None or self.kind is finding.kind)
        )

    def covers(self, path: str) -> bool:
        assert self.field is not None
        return path == self.field or path.startswith(self.field + ".")


@dataclass(frozen=True)
class Finding:
    """One difference; ``accepted`` when ignore rules hide all of it (``reasons`` say why)."""

    kind: Kind
    key: ResourceKey
    job: str
    fields: tuple[FieldChange, ...] = ()
    live_revision: str | None = None
    accepted: bool = False
    reasons: tuple[str, ...] = ()
    ignored_fields: tuple[FieldChange, ...] = ()
    note: str | None = None  # a pause's note, where the scheduler keeps one (who paused, why)

    @property
    def counts(self) -> bool:
        """Whether this finding is drift that counts (not accepted by an ignore rule)."""
        return not self.accepted

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "key": str(self.key),
            "backend": self.key.backend,
            "scope": self.key.scope,
            "name": self.key.name,
            "job": self.job,
            "fields": [_field_json(f) for f in self.fields],
            "ignored_fields": [_field_json(f) for f in self.ignored_fields],
            "live_revision": self.live_revision,
            "ignored": self.accepted,
            "ignore_reasons": list(self.reasons),
            "note": self.note,
        }


def classify(change_set: ChangeSet, live: Iterable[LiveResource]) -> list[Finding]:
    """Every difference in a change set computed with prune, plus operator pauses (each once)."""
    paused = {r.key: r for r in live if r.paused and r.managed}
    pending = {c.key: c for c in change_set.pending()}
    findings = [_from_change(c) for c in pending.values() if c.key not in paused]
    findings += [Finding(Kind.FOREIGN, r.key, r.job) for r in change_set.conflicts]
    for resource in paused.values():
        findings += _pause(resource, pending.get(resource.key))
    return sorted(findings, key=lambda f: (f.key, list(Kind).index(f.kind)))


def rules_of(settings: Mapping[str, Any]) -> list[Rule]:
    """The ignore rules of an environment.yaml (``drift.ignore``; none when absent)."""
    section = settings.get("drift") or {}
    return [Rule.from_settings(entry) for entry in section.get("ignore") or ()]


def apply_ignores(findings: Sequence[Finding], rules: Sequence[Rule]) -> list[Finding]:
    """The findings with accepted drift marked as ignored (never dropped)."""
    return [_ignore(finding, rules) for finding in findings]


def counted(findings: Iterable[Finding]) -> list[Finding]:
    return [f for f in findings if f.counts]


def summary(findings: Iterable[Finding]) -> dict[str, int]:
    """Counted findings per kind, every kind present (zero when none)."""
    counts = Counter(f.kind for f in findings if f.counts)
    return {kind.value: counts.get(kind, 0) for kind in Kind}


def per_backend(findings: Iterable[Finding]) -> Counter[tuple[str, str]]:
    """Counted findings per (backend, kind)."""
    return Counter((f.key.backend, f.kind.value) for f in findings if f.counts)


def _from_change(change: Change) -> Finding:
    revision = _revision(change.before) if change.before is not None else None
    if change.action in (Action.CREATE, Action.MOVE):  # a move: missing where it goes
        return Finding(Kind.MISSING, change.key, change.job)
    if change.action is Action.DELETE:
        return Finding(Kind.ORPHAN, change.key, change.job, live_revision=revision)
    if change.action is Action.ADOPT:
        return Finding(Kind.FOREIGN, change.key, change.job, change.fields)
    return Finding(Kind.MODIFIED, change.key, change.job, change.fields, revision)


def _pause(resource: LiveResource, change: Change | None) -> list[Finding]:
    """An operator's pause: one ``paused`` finding carrying the pause field the config would
    undo, plus a ``modified`` one only for other fields."""
    pause = tuple(f for f in (change.fields if change else ()) if f.path in PAUSE_FIELDS)
    note = resource.observed.get("pause_note")
    found = [
        Finding(Kind.PAUSED, resource.key, resource.job, pause, _revision(resource), note=note)
    ]
    if change is None:
        return found
    rest = replace(_from_change(change), fields=tuple(f for f in change.fields if f not in pause))
    if rest.kind is not Kind.MODIFIED or rest.fields:
        found.append(rest)
    return found


def _revision(resource: LiveResource) -> str | None:
    value = resource.meta.get("revision")
    return value if value and value not in ("-", "None") else None


def _ignore(finding: Finding, rules: Sequence[Rule]) -> Finding:
    selected = [rule for rule in rules if rule.selects(finding)]
    whole = [rule.reason for rule in selected if rule.field is None]
    if whole:
        return replace(finding, accepted=True, reasons=tuple(dict.fromkeys(whole)))
    by_field = [rule for rule in selected if rule.field is not None]
    if not by_field:
        return finding
    hidden = [f for f in finding.fields if any(rule.covers(f.path) for rule in by_field)]
    if not hidden:
        return finding
    kept = tuple(f for f in finding.fields if f not in hidden)
    reasons = (r.reason for r in by_field if any(r.covers(f.path) for f in hidden))
    return replace(
        finding,
        fields=kept,
        ignored_fields=tuple(hidden),
        accepted=not kept,
        reasons=tuple(dict.fromkeys(reasons)),
    )


def _field_json(change: FieldChange) -> dict[str, Any]:
    return {"path": change.path, "live": change.before, "config": change.after}
