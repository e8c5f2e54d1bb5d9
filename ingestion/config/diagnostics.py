"""Diagnostics: one problem in a config, with where it is and what to do about it.

Validation accumulates diagnostics instead of stopping at the first one; a stage that cannot go
on raises :class:`ConfigError` carrying all of them. Every diagnostic renders as one line that
names the file, line, column and JSON path (Terraform's diagnostics are the model).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


class Severity(enum.StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, order=True)
class Location:
    """A place in a config file; line and column are 1-based, 0 when unknown."""

    file: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if not self.line:
            return self.file
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Diagnostic:
    """One problem: a stable code, a one-line summary, an optional hint, and where it is."""

    code: str
    summary: str
    location: Location
    path: str = "$"
    hint: str = ""
    severity: Severity = Severity.ERROR

    def render(self) -> str:
        text = f"{self.location}: {self.severity.value}[{self.code}] {self.path}: {self.summary}"
        return f"{text} (hint: {self.hint})" if self.hint else text

    def to_json(self) -> dict[str, object]:
        return {
            "severity": self.severity.value,
            "code": self.code,
            "summary": self.summary,
            "hint": self.hint,
            "file": self.location.file,
            "line": self.location.line,
            "column": self.location.column,
            "path": self.path,
        }


def sort_key(diagnostic: Diagnostic) -> tuple[Location, str, str]:
    return (diagnostic.location, diagnostic.path, diagnostic.code)


def errors(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    return [d for d in diagnostics if d.severity is Severity.ERROR]


class ConfigError(Exception):
    """A config cannot be used; carries every diagnostic found, sorted by location."""

    def __init__(self, diagnostics: Sequence[Diagnostic]) -> None:
        self.diagnostics = sorted(diagnostics, key=sort_key)
        count = len(errors(self.diagnostics)) or len(self.diagnostics)
        super().__init__(f"{count} configuration or policy problem(s)")


def json_path(parts: Sequence[str | int]) -> str:
    """Render a path as JSONPath: ``$.runtime.orchestration.tables[0]``."""
    text = "$"
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text
