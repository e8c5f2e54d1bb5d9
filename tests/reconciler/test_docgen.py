"""The generated reference pages: fresh, complete, deterministic, and ``reconcile docs --check``."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from ingestion.exitcodes import ExitCode
from reconciler import docgen
from reconciler.cli import clidoc, docs
from tests.conftest import ROOT, run_reconcile


def _property_names(schema: Any) -> Iterator[str]:
    """Every property name declared anywhere in a schema (``$defs`` and nested schemas too)."""
    if isinstance(schema, list):
        for item in schema:
            yield from _property_names(item)
    if not isinstance(schema, Mapping):
        return
    for keyword, value in schema.items():
        if keyword == "properties":
            for name, sub in value.items():
                yield name
                yield from _property_names(sub)
        elif keyword == "$defs":
            for sub in value.values():
                yield from _property_names(sub)
        elif isinstance(value, Mapping | list):
            yield from _property_names(value)


def test_committed_configuration_reference_is_fresh() -> None:
    committed = (ROOT / docs.CONFIGURATION).read_text(encoding="utf-8")
    assert committed == docgen.render(docs.load_schemas()), "run `reconcile docs`"


def test_committed_cli_reference_is_fresh() -> None:
    committed = (ROOT / docs.CLI).read_text(encoding="utf-8")
    assert committed == clidoc.render(docs.programs()), "run `reconcile docs`"


def test_every_schema_property_is_documented() -> None:
    schemas = docs.load_schemas()
    text = docgen.render(schemas)
    paths = docgen.property_paths(schemas)
    leaves = {re.split(r"\.|\[\]\.", path)[-1] for path in paths}
    for name, schema in schemas.items():
        for prop in _property_names(schema):
            assert prop in leaves, f"{name}: property '{prop}' is not in the reference"
    for path in paths:
        assert f"`{path}`" in text


def test_top_level_keys_and_enums_appear_with_their_paths() -> None:
    text = docgen.render(docs.load_schemas())
    assert "`runtime.orchestration.temporal.schedule.overlap`" in text
    assert '`"buffer_one"`' in text
    assert "`source.tables[].primary_key`" in text
    assert "`crontab.target.file`" in text


def test_generation_is_deterministic_and_ignores_mapping_order() -> None:
    schemas = docs.load_schemas()
    reversed_order = {name: schemas[name] for name in reversed(list(schemas))}
    assert docgen.render(schemas) == docgen.render(copy.deepcopy(schemas))
    assert docgen.render(schemas) == docgen.render(reversed_order)


def test_a_new_schema_key_changes_the_reference() -> None:
    schemas = docs.load_schemas()
    changed = copy.deepcopy(schemas)
    changed["job.schema.json"]["$defs"]["retries"]["properties"]["jitter_minutes"] = {
        "type": "integer",
        "description": "Random extra minutes.",
        "minimum": 0,
        "examples": [5],
    }
    text = docgen.render(changed)
    assert text != docgen.render(schemas)
    row = next(line for line in text.splitlines() if "`retries.jitter_minutes`" in line)
    assert "integer" in row and "≥ 0" in row and "Random extra minutes." in row and "`5`" in row


def test_every_command_and_exit_code_is_in_the_cli_reference() -> None:
    text = clidoc.render(docs.programs())
    for program, command in docs.programs():
        for name in command.commands:
            assert f"### `{program} {name}`" in text
    for code in ExitCode:
        assert f"| {int(code)} | {clidoc.MEANINGS[code]} |" in text


def test_docs_check_exits_4_when_stale_and_0_after_writing(
    project: Callable[..., Path],
) -> None:
    root = project("dev")
    assert run_reconcile("docs", "--check", "--root", str(root)).exit_code == 4
    assert run_reconcile("docs", "--root", str(root)).exit_code == 0
    result = run_reconcile("docs", "--check", "--root", str(root), "--output", "json")
    assert result.exit_code == 0 and json.loads(result.stdout)["stale"] == []

    page = root / docs.CONFIGURATION
    page.write_text(page.read_text(encoding="utf-8") + "hand edit\n", encoding="utf-8")
    result = run_reconcile("docs", "--check", "--root", str(root), "--output", "json")
    assert result.exit_code == 4
    assert json.loads(result.stdout)["stale"] == [docs.CONFIGURATION.as_posix()]
