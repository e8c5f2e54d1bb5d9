"""The secret scan's pre-selection: what of a job's input the Rego secret scan can find anything in.

``policies/job/secrets.rego`` walks every part of a job's input that ``data.params.secrets.scan``
names (the merged job config and the plan) and looks at each member of each mapping: a key
named like a secret (``secrets.keys``) holding a string, or a string (alone or in a list)
holding one of the ``secrets.value_patterns``' ``needle`` before its ``regex`` is tried.
Walking and testing every string in rego-cpp is most of the cost of a job's evaluation, and
almost every string can be ruled out by the same tests in Python. :class:`Scanner` does
that, from the same policy data (the needle, then the regex where Python's ``re`` reads it as
rego-cpp does: the shared syntax, on plain ASCII text), and gives each part back pruned to the
members that can still match, at their own paths (a list keeps its length: what is left out of
it becomes ``null``); :mod:`.findings` passes it as ``input.secret_scan`` and the policy walks
it instead of the whole part. Rego still decides: the pruning keeps a superset of what could
match (a key, or a string that is not plain ASCII, is always kept, so neither case folding nor
the regular expressions can differ), and when the data is not shaped as expected nothing is
pruned at all.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

SCAN_KEY = "secret_scan"


# The regular-expression syntax whose meaning Python's re and rego-cpp's engine (RE2 syntax)
# share on the texts _comparable() admits: literals, classes, groups, alternation, repetition
# and the escapes below; no anchors at the end, flags, look-arounds or back-references.
_SHARED_SYNTAX = re.compile(r"(?:[A-Za-z0-9 _/.:@?&;=+*,|()\[\]^{}-]|\\[s.\\/-])*")
_OTHER_WHITESPACE = frozenset("\x0b\x1c\x1d\x1e\x1f")  # \s to Python, not to RE2


@dataclass(frozen=True)
class _Pattern:
    needle: str
    regex: re.Pattern[str] | None  # None: Python may not read it as Rego does; Rego tries it

    def may_match(self, text: str, folded: str, comparable: bool) -> bool:
        if self.needle not in folded:
            return False
        return self.regex is None or not comparable or self.regex.search(text) is not None


@dataclass(frozen=True)
class _Filter:
    keys: frozenset[str]  # secret-named keys, as written in the data (lower case)
    patterns: tuple[_Pattern, ...]
    needles: re.Pattern[str]  # any pattern's needle: most strings hold none, one search says so

    def key(self, key: str) -> bool:
        return key.lower() in self.keys or not key.isascii()

    def value(self, key: str, text: str) -> bool:
        if key.endswith("_ref"):
            return False
        if not text.isascii():
            return True
        folded = text.lower()
        if self.needles.search(folded) is None:
            return False
        comparable = _comparable(text)
        return any(p.may_match(text, folded, comparable) for p in self.patterns)


def _comparable(text: str) -> bool:
    """Python's re reads the shared syntax on ``text`` as RE2 does (ASCII, and no whitespace
    that only Python's ``\\s`` matches)."""
    return not _OTHER_WHITESPACE.intersection(text)


def _python_regex(pattern: str) -> re.Pattern[str] | None:
    if not _SHARED_SYNTAX.fullmatch(pattern) or "(?" in pattern:
        return None
    try:
        return re.compile(pattern)
    except re.error:
        return None


class Scanner:
    """The pre-selection of one policy bundle's data, made once and used for each job."""

    def __init__(self, params: Mapping[str, Any]) -> None:
        self._filter = _filter(params)
        secrets = params.get("secrets")
        parts = secrets.get("scan") if isinstance(secrets, Mapping) else None
        shaped = isinstance(parts, list) and all(isinstance(p, str) for p in parts)
        self._parts: list[str] | None = parts if shaped else None

    def scan(self, document: Mapping[str, Any]) -> dict[str, Any] | None:
        """``{part: pruned part}`` for every part of ``document`` the scan covers, or None when
        the policy data is not shaped as expected (then the policy walks the whole parts)."""
        found, parts = self._filter, self._parts
        if found is None or parts is None:
            return None
        return {part: _part(found, _plain(document[part])) for part in parts if part in document}


def _filter(params: Mapping[str, Any]) -> _Filter | None:
    secrets = params.get("secrets")
    if not isinstance(secrets, Mapping):
        return None
    keys, patterns = secrets.get("keys"), secrets.get("value_patterns")
    if not isinstance(keys, list) or not isinstance(patterns, list):
        return None
    if not all(isinstance(k, str) for k in keys) or not all(_shaped(p) for p in patterns):
        return None
    needles = re.compile("|".join(re.escape(p["needle"]) for p in patterns) or "(?!)")
    return _Filter(
        frozenset(keys),
        tuple(_Pattern(p["needle"], _python_regex(p["regex"])) for p in patterns),
        needles,
    )


def _shaped(pattern: Any) -> bool:
    return (
        isinstance(pattern, Mapping)
        and isinstance(pattern.get("needle"), str)
        and isinstance(pattern.get("regex"), str)
    )


def _plain(value: Any) -> Any:
    """The value as the engine sees it (the input goes to rego-cpp as JSON text); values that
    are already plain JSON types, the usual case, are not copied."""
    return value if _is_plain(value) else json.loads(json.dumps(value, default=str))


def _is_plain(value: Any) -> bool:
    if isinstance(value, dict):
        return all(isinstance(k, str) and _is_plain(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_is_plain(item) for item in value)
    return value is None or isinstance(value, str | int | float | bool)


def _part(found: _Filter, value: Any) -> Any:
    """A part pruned: a mapping or list pruned, anything else as it is (it holds no mapping)."""
    if isinstance(value, dict | list):
        return _container(found, "", value) or type(value)()
    return value


def _object(found: _Filter, node: Any) -> dict[str, Any]:
    """A mapping's members that can match, and its containers pruned (others left out)."""
    if not isinstance(node, dict):
        return {}
    kept: dict[str, Any] = {}
    for key, value in node.items():
        if isinstance(value, str):
            if found.key(key) or found.value(key, value):
                kept[key] = value
        elif isinstance(value, dict | list):
            pruned = _container(found, key, value)
            if pruned:
                kept[key] = pruned
    return kept


def _container(found: _Filter, key: str, value: Any) -> Any:
    if isinstance(value, dict):
        return _object(found, value)
    items = [_item(found, key, item) for item in value]
    return items if any(item is not None for item in items) else None


def _item(found: _Filter, key: str, item: Any) -> Any:
    """A list item: a string that can match (under the list's key), a pruned container, or
    None in its place."""
    if isinstance(item, str):
        return item if found.value(key, item) else None
    if isinstance(item, dict | list):
        return _container(found, key, item) or None
    return None
