"""Change scalar values of a YAML (or JSON) document in place: every other byte, comments and
layout included, stays as it was, so a promotion's diff shows only the values it carried.

A value is located by its JSON path through ``yaml.compose`` (node marks give its exact span),
written plain when it reads back as itself and double-quoted otherwise, and the edited
document is parsed again and compared: :class:`EditError` rather than a silently wrong file.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import yaml

PathKey = tuple[str | int, ...]


class EditError(Exception):
    """A value cannot be replaced in place; the message names the path."""


def replace(text: str, values: Mapping[PathKey, str]) -> str:
    """``text`` with the scalar at each path set to its new string value."""
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    spans = sorted(((*_span(root, path), value) for path, value in values.items()), reverse=True)
    edited = text
    for start, end, style, value in spans:
        edited = edited[:start] + _token(value, style) + edited[end:]
    expected = yaml.safe_load(text)
    for path, value in values.items():
        _set(expected, path, value)
    if yaml.safe_load(edited) != expected:
        raise EditError(f"editing {', '.join(map(_shown, values))} in place changed more")
    return edited


def _span(root: yaml.Node | None, path: PathKey) -> tuple[int, int, str | None]:
    node = root
    for key in path:
        node = _child(node, key)
        if node is None:
            raise EditError(f"{_shown(path)} is not set")
    if not isinstance(node, yaml.ScalarNode):
        raise EditError(f"{_shown(path)} is not a single value")
    return node.start_mark.index, node.end_mark.index, node.style


def _child(node: yaml.Node | None, key: str | int) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode) and isinstance(key, str):
        return next((v for k, v in node.value if k.value == key), None)
    if isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
        child: yaml.Node = node.value[key]
        return child
    return None


def _token(value: str, style: str | None) -> str:
    if style is None and _reads_back(value):
        return value
    return json.dumps(value)


def _reads_back(value: str) -> bool:
    """True when ``value`` written plain, in a block mapping, reads back as the same string."""
    try:
        return bool(yaml.safe_load(f"k: {value}\n") == {"k": value})
    except yaml.YAMLError:
        return False


def _set(data: Any, path: PathKey, value: str) -> None:
    for key in path[:-1]:
        data = data[key]
    data[path[-1]] = value


def _shown(path: PathKey) -> str:
    return ".".join(str(key) for key in path)
