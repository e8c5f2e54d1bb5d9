"""Read a YAML (or JSON) config file into plain Python values plus the position of every node.

The positions let every later diagnostic (schema, cross-field, secrets, policies) point at the
exact line and column of the offending value. Malformed YAML, duplicate keys and non-string keys
are reported as diagnostics, never as tracebacks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ingestion.config.diagnostics import ConfigError, Diagnostic, Location, json_path

PathKey = tuple[str | int, ...]


@dataclass(frozen=True)
class SourceDoc:
    """A parsed config file: its data, its raw bytes and where each JSON path starts."""

    file: str
    data: Any
    raw: bytes
    positions: Mapping[PathKey, tuple[int, int]] = field(default_factory=dict)

    def locate(self, path: PathKey) -> Location:
        """The location of ``path``, or of its nearest ancestor that has one."""
        for end in range(len(path), -1, -1):
            position = self.positions.get(path[:end])
            if position:
                return Location(self.file, *position)
        return Location(self.file)


class _Builder:
    def __init__(self, file: str, loader: yaml.SafeLoader) -> None:
        self.file = file
        self.loader = loader
        self.positions: dict[PathKey, tuple[int, int]] = {}
        self.problems: list[Diagnostic] = []

    def build(self, node: yaml.Node, path: PathKey) -> Any:
        self.positions[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        return self.loader.construct_object(node, deep=True)

    def _mapping(self, node: yaml.MappingNode, path: PathKey) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = self.loader.construct_object(key_node, deep=True)
            where = Location(
                self.file, key_node.start_mark.line + 1, key_node.start_mark.column + 1
            )
            if not isinstance(key, str):
                self._problem("non-string-key", f"key {key!r} is not a string", where, path)
                continue
            if key in result:
                self._problem("duplicate-key", f"key '{key}' appears twice", where, (*path, key))
                continue
            result[key] = self.build(value_node, (*path, key))
            self.positions[(*path, key)] = (where.line, where.column)
        return result

    def _problem(self, code: str, summary: str, where: Location, path: PathKey) -> None:
        hint = "quote the key" if code == "non-string-key" else "remove one of them"
        self.problems.append(Diagnostic(code, summary, where, json_path(path), hint))


def parse(file: str, raw: bytes) -> SourceDoc:
    """Parse ``raw`` (the bytes of ``file``); raise :class:`ConfigError` when it is not usable."""
    try:
        text = raw.decode("utf-8")
        loader = yaml.SafeLoader(text)
        try:
            node = loader.get_single_node()
            builder = _Builder(file, loader)
            data = builder.build(node, ()) if node is not None else None
        finally:
            loader.dispose()
    except UnicodeDecodeError as exc:
        where = Location(file)
        raise ConfigError([Diagnostic("encoding", f"not UTF-8 text: {exc.reason}", where)]) from exc
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Location(file, mark.line + 1, mark.column + 1) if mark else Location(file)
        summary = f"malformed YAML: {exc.problem or exc.context}"
        raise ConfigError([Diagnostic("yaml-syntax", summary, where)]) from exc
    if builder.problems:
        raise ConfigError(builder.problems)
    return SourceDoc(file, data, raw, builder.positions)


def read(path: Path, display: str) -> SourceDoc:
    """Read and parse the file at ``path``, naming it ``display`` in diagnostics."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ConfigError(
            [Diagnostic("unreadable", f"cannot read file: {reason}", Location(display))]
        ) from exc
    return parse(display, raw)
