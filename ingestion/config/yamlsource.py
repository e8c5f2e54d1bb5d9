"""Read a YAML (or JSON) config file into plain Python values plus the position of every node.

The positions let every later diagnostic (schema, cross-field, secrets, policies) point at the
exact line and column of the offending value. Malformed YAML, duplicate keys and non-string keys
are reported as diagnostics, never as tracebacks. Input cannot make it hang or grow: a file over
:data:`MAX_BYTES` is refused unread, aliases may produce at most :data:`MAX_ALIAS_NODES` values
per document (a "billion laughs" bomb is refused at the alias, in milliseconds), an alias
inside its own anchor and runaway nesting are refused too. Keys are quoted only as
:func:`ingestion.config.secrets.shown` allows. A file is read through libyaml (CSafeLoader's
composer: the same nodes and marks, several times faster) when it is a plain tree read without
any problem, the usual case; anything else (an alias, a problem to word) through PyYAML's
pure-Python composer, which keeps each alias as its own node.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import yaml

from ingestion.config import secrets
from ingestion.config.diagnostics import ConfigError, Diagnostic, Location, json_path

PathKey = tuple[str | int, ...]


@dataclass(frozen=True)
class SourceDoc:
    """A parsed config file: its data, its raw bytes and where each JSON path starts;
    ``elsewhere`` holds the paths whose value was given outside the file (``--set``)."""

    file: str
    data: Any
    raw: bytes
    positions: Mapping[PathKey, tuple[int, int]] = field(default_factory=dict)
    elsewhere: Mapping[PathKey, Location] = field(default_factory=dict)

    def locate(self, path: PathKey) -> Location:
        """The location of ``path``, or of its nearest ancestor that has one."""
        for end in range(len(path), -1, -1):
            if path[:end] in self.elsewhere:
                return self.elsewhere[path[:end]]
            position = self.positions.get(path[:end])
            if position:
                return Location(self.file, *position)
        return Location(self.file)


MAX_BYTES = 1 << 20  # a config file larger than this is refused unread
MAX_ALIAS_NODES = 10_000  # values produced through aliases, in one document


class _AliasNode(yaml.Node):
    """Where an alias (``*name``) is written, and the anchored node it stands for."""

    def __init__(self, target: yaml.Node, event: yaml.AliasEvent) -> None:
        start, end = cast(yaml.Mark, event.start_mark), cast(yaml.Mark, event.end_mark)
        super().__init__(target.tag, target.value, start, end)
        self.target = target
        self.anchor = str(event.anchor)


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader, keeping each alias as its own node so it can be located."""

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            target = super().compose_node(parent, index)
            return _AliasNode(target, event) if target is not None else None
        return super().compose_node(parent, index)


_Via = tuple[_AliasNode, PathKey]  # an alias and the path it is written at


_STR = "tag:yaml.org,2002:str"


class _Builder:
    """Plain values and positions from the node graph, expanding aliases a bounded amount."""

    def __init__(self, file: str, loader: Any, tree_only: bool = False) -> None:
        self.file = file
        self.loader = loader
        self.tree_only = tree_only  # libyaml's graph: a node met twice is an alias (see _read_c)
        self.seen: set[int] = set()
        self.positions: dict[PathKey, tuple[int, int]] = {}
        self.problems: list[Diagnostic] = []
        self.expanded = 0  # nodes built through an alias
        self.open: set[int] = set()  # ids of the collections being built (cycle detection)

    def build(self, node: yaml.Node, path: PathKey, via: _Via | None = None) -> Any:
        """The value at ``node``; ``via`` is the outermost alias it is reached through."""
        if isinstance(node, _AliasNode):
            return self._alias(node, path, via)
        if self.tree_only:
            if id(node) in self.seen:
                raise _NotATree
            self.seen.add(id(node))
        self.positions[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if via is not None:
            self.expanded += 1
            if self.expanded > MAX_ALIAS_NODES:
                raise _refused(
                    self.file,
                    via,
                    f"alias *{via[0].anchor} expands past the limit of {MAX_ALIAS_NODES} "
                    "values produced through aliases",
                )
        if isinstance(node, yaml.MappingNode | yaml.SequenceNode):
            return self._collection(node, path, via)
        if node.tag == _STR:  # what the constructor returns for a string, without its machinery
            return node.value
        return self.loader.construct_object(node, deep=True)

    def _alias(self, node: _AliasNode, path: PathKey, via: _Via | None) -> Any:
        if id(node.target) in self.open:
            summary = f"alias *{node.anchor} refers to a value that contains it"
            raise _refused(self.file, (node, path), summary)
        value = self.build(node.target, path, via or (node, path))
        self.positions[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
        return value

    def _collection(self, node: yaml.Node, path: PathKey, via: _Via | None) -> Any:
        self.open.add(id(node))
        try:
            if isinstance(node, yaml.MappingNode):
                return self._mapping(node, path, via)
            return [self.build(item, (*path, i), via) for i, item in enumerate(node.value)]
        finally:
            self.open.discard(id(node))

    def _mapping(self, node: yaml.MappingNode, path: PathKey, via: _Via | None) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            mark = key_node.start_mark
            key = self._key(key_node)
            if isinstance(key, tuple):
                self._problem("non-string-key", f"{key[0]} is not a string", mark, path)
                continue
            if key in result:
                hidden = secrets.looks_secret(key)
                named = "a key (not shown)" if hidden else f"key '{key}'"
                where_path = path if hidden else (*path, key)
                self._problem("duplicate-key", f"{named} appears twice", mark, where_path)
                continue
            at = (*path, key)
            result[key] = self.build(value_node, at, via)
            self.positions[at] = (mark.line + 1, mark.column + 1)
        return result

    def _key(self, node: yaml.Node) -> str | tuple[str]:
        """The key written at ``node``, or (for a key that is not a string) how to name it."""
        target = node.target if isinstance(node, _AliasNode) else node
        if not isinstance(target, yaml.ScalarNode):
            return (f"a {'mapping' if isinstance(target, yaml.MappingNode) else 'list'} key",)
        if target.tag == _STR:  # as in build(): a string without the constructor's machinery
            return target.value
        key = self.loader.construct_object(target, deep=True)
        if isinstance(key, str):
            return key
        return (f"key {secrets.shown(key) or '(not shown)'}",)

    def _problem(self, code: str, summary: str, mark: Any, path: PathKey) -> None:
        hint = "quote the key" if code == "non-string-key" else "remove one of them"
        where = Location(self.file, mark.line + 1, mark.column + 1)
        self.problems.append(Diagnostic(code, summary, where, json_path(path), hint))


def _refused(file: str, via: _Via, summary: str) -> ConfigError:
    alias, path = via
    where = Location(file, alias.start_mark.line + 1, alias.start_mark.column + 1)
    hint = "write the values out: a config needs few aliases (is this an alias bomb?)"
    return ConfigError([Diagnostic("alias-expansion", summary, where, json_path(path), hint)])


class _NotATree(Exception):
    """libyaml's graph reuses a node: an alias, which only the pure-Python path locates."""


_CSafeLoader: Any = getattr(yaml, "CSafeLoader", None)
MAX_FLOW_BRACKETS = 1000  # more [ or { than this: the pure-Python path (it bounds nesting)


def _read_c(file: str, text: str) -> tuple[Any, dict[PathKey, tuple[int, int]]] | None:
    """Data and positions through libyaml (CSafeLoader: the same nodes, marks, resolver and
    constructors, several times faster), for a document that is a plain tree read without any
    problem; None otherwise (an alias, a duplicate or non-string key, malformed YAML, deep flow
    nesting, no libyaml), and the pure-Python path reads it and words every problem."""
    if _CSafeLoader is None or text.count("[") + text.count("{") > MAX_FLOW_BRACKETS:
        return None
    loader = _CSafeLoader(text)
    try:
        node = loader.get_single_node()
        builder = _Builder(file, loader, tree_only=True)
        data = builder.build(node, ()) if node is not None else None
    except Exception:  # anything at all: the pure-Python path decides what it is
        return None
    finally:
        loader.dispose()
    return None if builder.problems else (data, builder.positions)


def parse(file: str, raw: bytes) -> SourceDoc:
    """Parse ``raw`` (the bytes of ``file``); raise :class:`ConfigError` when it is not usable."""
    if len(raw) > MAX_BYTES:
        raise ConfigError([_too_large(file)])
    try:
        text = raw.decode("utf-8")
        data, positions = _read_c(file, text) or _read_python(file, text)
    except UnicodeDecodeError as exc:
        where = Location(file)
        raise ConfigError([Diagnostic("encoding", f"not UTF-8 text: {exc.reason}", where)]) from exc
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Location(file, mark.line + 1, mark.column + 1) if mark else Location(file)
        summary = f"malformed YAML: {exc.problem or exc.context}"
        raise ConfigError([Diagnostic("yaml-syntax", summary, where)]) from exc
    except RecursionError as exc:
        summary = "nested too deeply to read"
        hint = "a config is a few levels deep; look for runaway brackets"
        raise ConfigError(
            [Diagnostic("yaml-too-deep", summary, Location(file), hint=hint)]
        ) from exc
    return SourceDoc(file, data, raw, positions)


def _read_python(file: str, text: str) -> tuple[Any, dict[PathKey, tuple[int, int]]]:
    """Data and positions through PyYAML's pure-Python composer, which keeps each alias as
    its own node; raise :class:`ConfigError` for duplicate or non-string keys, and PyYAML's
    errors for anything else."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        builder = _Builder(file, loader)
        data = builder.build(node, ()) if node is not None else None
    finally:
        loader.dispose()
    if builder.problems:
        raise ConfigError(builder.problems)
    return data, builder.positions


def read(path: Path, display: str) -> SourceDoc:
    """Read and parse the file at ``path``, naming it ``display`` in diagnostics."""
    if path.exists() and not path.is_file():  # a FIFO or a device would block or never end
        where = Location(display)
        raise ConfigError([Diagnostic("unreadable", "not a regular file", where)])
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ConfigError(
            [Diagnostic("unreadable", f"cannot read file: {reason}", Location(display))]
        ) from exc
    if len(raw) > MAX_BYTES:
        raise ConfigError([_too_large(display)])
    return parse(display, raw)


def _too_large(file: str) -> Diagnostic:
    summary = f"file is larger than {MAX_BYTES // 1024} KiB"
    return Diagnostic(
        "too-large", summary, Location(file), hint="a config is a few KiB; split or trim it"
    )
