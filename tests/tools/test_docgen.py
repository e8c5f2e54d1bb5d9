"""The generated reference pages: fresh, complete, deterministic, and ``python -m tools.docgen``."""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from typer.testing import CliRunner, Result

from ingestion.exitcodes import ExitCode
from tests.conftest import ROOT, run_reconcile
from tools.docgen import __main__ as docgen_command
from tools.docgen import cli_reference, config_reference, pages

REGENERATE = "run `python -m tools.docgen`"


def run_docgen(*args: str) -> Result:
    """Run ``python -m tools.docgen`` in-process."""
    return CliRunner().invoke(docgen_command.app, list(args))


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
    committed = (ROOT / pages.CONFIGURATION).read_text(encoding="utf-8")
    assert committed == config_reference.render(pages.load_schemas()), REGENERATE


def test_committed_cli_reference_is_fresh() -> None:
    committed = (ROOT / pages.CLI).read_text(encoding="utf-8")
    assert committed == cli_reference.render(pages.programs()), REGENERATE


def test_every_schema_property_is_documented() -> None:
    schemas = pages.load_schemas()
    text = config_reference.render(schemas)
    paths = config_reference.property_paths(schemas)
    leaves = {re.split(r"\.|\[\]\.", path)[-1] for path in paths}
    for name, schema in schemas.items():
        for prop in _property_names(schema):
            assert prop in leaves, f"{name}: property '{prop}' is not in the reference"
    for path in paths:
        assert f"`{path}`" in text


def test_top_level_keys_and_enums_appear_with_their_paths() -> None:
    text = config_reference.render(pages.load_schemas())
    assert "`runtime.orchestration.temporal.schedule.overlap`" in text
    assert '`"buffer_one"`' in text
    assert "`source.tables[].primary_key`" in text
    assert "`crontab.target.file`" in text


def test_generation_is_deterministic_and_ignores_mapping_order() -> None:
    schemas = pages.load_schemas()
    reversed_order = {name: schemas[name] for name in reversed(list(schemas))}
    assert config_reference.render(schemas) == config_reference.render(copy.deepcopy(schemas))
    assert config_reference.render(schemas) == config_reference.render(reversed_order)


def test_a_new_schema_key_changes_the_reference() -> None:
    schemas = pages.load_schemas()
    changed = copy.deepcopy(schemas)
    changed["job.schema.json"]["$defs"]["retries"]["properties"]["jitter_minutes"] = {
        "type": "integer",
        "description": "Random extra minutes.",
        "minimum": 0,
        "examples": [5],
    }
    text = config_reference.render(changed)
    assert text != config_reference.render(schemas)
    row = next(line for line in text.splitlines() if "`retries.jitter_minutes`" in line)
    assert "integer" in row and "≥ 0" in row and "Random extra minutes." in row and "`5`" in row


def test_every_command_and_exit_code_is_in_the_cli_reference() -> None:
    text = cli_reference.render(pages.programs())
    for program, command in pages.programs():
        for name in command.commands:
            assert f"### `{program} {name}`" in text
    for code in ExitCode:
        assert f"| {int(code)} | {cli_reference.MEANINGS[code]} |" in text


def test_check_exits_4_when_stale_and_0_after_writing(project: Callable[..., Path]) -> None:
    root = project("dev")
    stale = run_docgen("--check", "--root", str(root))
    assert stale.exit_code == 4
    assert "python -m tools.docgen" in stale.stdout and "docs/reference/cli.md" in stale.stdout
    assert run_docgen("--root", str(root)).exit_code == 0
    result = run_docgen("--check", "--root", str(root), "--output", "json")
    assert result.exit_code == 0 and json.loads(result.stdout)["stale"] == []

    page = root / pages.CONFIGURATION
    page.write_text(page.read_text(encoding="utf-8") + "hand edit\n", encoding="utf-8")
    result = run_docgen("--check", "--root", str(root), "--output", "json")
    assert result.exit_code == 4
    assert json.loads(result.stdout)["stale"] == [pages.CONFIGURATION.as_posix()]


def test_runs_as_a_module_from_the_project_root() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tools.docgen", "--check"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "up to date" in done.stdout


def test_the_reconcile_app_has_no_docs_command() -> None:
    assert run_reconcile("docs", "--check").exit_code == ExitCode.USAGE
