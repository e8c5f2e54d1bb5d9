"""Environment bindings: the job-config values that say *where* a job runs, not *what* it does.

A promotion carries the source environment's job definitions into the target and keeps the
target's own value at every path of :data:`BINDINGS` (the one list of them). The rule for one
job file, :func:`carry`:

- each binding is set in both files or in neither (then the environment's default applies);
  one set on one side only cannot be carried and is refused;
- the result is the source file's text, byte for byte, with the target's binding values;
- a string outside the bindings that still names the source environment (as a whole word,
  ``bss-replica.uat.internal``) is refused: it is a binding this list does not know, and it
  would point the target at the source's systems.

Refusals raise :class:`BindingError` with the file and path and what to do.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

import yaml

from reconciler.promotion import yamledit

BINDINGS: tuple[yamledit.PathKey, ...] = (
    ("source", "jdbc_url"),
    ("source", "password_ref"),
    ("runtime", "orchestration", "temporal", "namespace"),
    ("runtime", "orchestration", "temporal", "task_queue"),
    ("runtime", "orchestration", "kubernetes", "namespace"),
    ("runtime", "orchestration", "kubernetes", "service_account"),
)


class BindingError(Exception):
    """A job file cannot be carried; the message names the file and path, the hint what to do."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.hint = hint


def names_environment(name: str) -> re.Pattern[str]:
    """Matches the environment ``name`` as a whole word (not inside a longer run of letters and
    digits): ``uat`` in ``salam-uat-payments``, not in ``evaluation``."""
    return re.compile(rf"(?<![A-Za-z0-9]){re.escape(name)}(?![A-Za-z0-9])")


def carry(source_env: str, source_text: str, target_text: str, target_file: str) -> str:
    """The target job file's new text: the source's, with the target's binding values."""
    source, target = yaml.safe_load(source_text), yaml.safe_load(target_text)
    values: dict[yamledit.PathKey, str] = {}
    for path in BINDINGS:
        mine, theirs = _at(source, path), _at(target, path)
        if (mine is None) != (theirs is None):
            side = "the target" if mine is None else "the source"
            raise BindingError(
                f"{target_file}: {_dotted(path)} is set only in {side}'s job config",
                "set this binding in both environments' files, or in neither",
            )
        if theirs is not None:
            values[path] = str(theirs)
    carried = yamledit.replace(source_text, values) if values else source_text
    _refuse_leaks(source_env, yaml.safe_load(carried), target_file)
    return carried


def _refuse_leaks(source_env: str, document: Any, target_file: str) -> None:
    word = names_environment(source_env)
    for path, value in _strings(document, ()):
        if path not in BINDINGS and word.search(value):
            raise BindingError(
                f"{target_file}: {_dotted(path)} would still name '{source_env}' after the "
                "promotion",
                "use the environment's default there, or add the path to "
                "reconciler/promotion/bindings.py BINDINGS",
            )


def _strings(value: Any, path: yamledit.PathKey) -> Iterator[tuple[yamledit.PathKey, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _strings(item, (*path, str(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, (*path, index))


def _at(document: Any, path: yamledit.PathKey) -> Any:
    for key in path:
        if not isinstance(document, Mapping):
            return None
        document = document.get(key)
    return document


def _dotted(path: yamledit.PathKey) -> str:
    return ".".join(str(key) for key in path)
