"""The quick schema check (``jsonschema_rs``) never lets through what ``jsonschema`` refuses:
over every shipped job config and environment.yaml, each value replaced in turn by wrong values
of every kind and by strings the two regex engines could read apart (a trailing newline, a
control character ``\\s`` means to Python only, non-ASCII), a document the quick check calls
valid has no problem for ``jsonschema`` either; and the shipped configs do take the quick way."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from ingestion.config import schema
from tests.conftest import ROOT
from tests.ingestion.config.test_ill_typed import WRONG, _paths, _replaced

TRICKY = ("ok\n", "a\x1cb", "a b", "é", "x@y\x1f", "-", "")
FILES = sorted(ROOT.glob("environments/*/jobs/*.yaml")) + sorted(
    ROOT.glob("environments/*/environment.yaml")
)


def _schema_of(path: Path) -> str:
    return schema.ENVIRONMENT if path.name == "environment.yaml" else schema.JOB


def _variants(data: Any) -> Iterator[Any]:
    for path in _paths(data):
        for wrong in (*WRONG, *TRICKY):
            yield _replaced(data, path, wrong)


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_quick_check_agrees_with_jsonschema(path: Path) -> None:
    name = _schema_of(path)
    data = yaml.safe_load(path.read_text())
    assert schema._surely_valid(data, name), "a shipped config takes the quick way"
    full = schema._validator(name)
    checked = 0
    for variant in _variants(data):
        if schema._surely_valid(variant, name):
            assert full.is_valid(variant)
            checked += 1
    assert checked  # some replacements stay valid (a string for a string), and agree
