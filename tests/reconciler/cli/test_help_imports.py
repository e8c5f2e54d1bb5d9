"""``reconcile --help`` and every command's ``--help`` load no more than they need: none of the
modules behind the commands (jsonschema, regopy, the engine, the backends' clients) is imported,
so help stays quick (issue 15; bench/scale.py reports the times)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import ROOT

HEAVY = (
    "jsonschema",
    "regopy",
    "temporalio",
    "kubernetes",
    "pyspark",
    "ingestion.config.schema",  # what the loader imports
    "reconciler.policy.rego",  # what the policy package imports
    "reconciler.placement",  # what the engine imports
    "pydantic",  # typer 0.29 coerces every option through it (pyproject pins typer below)
    "typer.rich_utils",  # typer's rich help panels (usage.HELP_MARKUP keeps click's plain text)
)
PROBE = """
import sys
from reconciler.cli.app import app
try:
    app(sys.argv[1:])
except SystemExit:
    pass
print("imported:" + ",".join(sorted(name for name in {heavy!r} if name in sys.modules)))
"""
COMMANDS = ["", "validate", "render", "lock", "rollback", "apply", "register", "drift", "history"]
COMMANDS += ["policy", "policy test", "compare", "promote", "status", "serve", "ui", "import"]


@pytest.mark.parametrize("command", COMMANDS)
def test_help_imports_none_of_the_command_modules(command: str) -> None:
    args = [*command.split(), "--help"]
    probe = PROBE.format(heavy=HEAVY)
    done = subprocess.run(
        [sys.executable, "-c", probe, *args], cwd=ROOT, capture_output=True, text=True, check=True
    )
    help_text, _, imported = done.stdout.rpartition("imported:")
    assert "Usage" in help_text
    assert imported.strip() == ""
