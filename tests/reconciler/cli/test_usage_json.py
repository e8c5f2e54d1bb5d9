"""A usage error under ``--output json`` is one JSON document (the commands' envelope), exit 2;
without it, click's text on stderr, exit 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import run_reconcile

BIN = Path(sys.executable).parent


@pytest.mark.parametrize(
    ("args", "command", "message"),
    [
        (["validate", "--output", "json"], "validate", "Missing option '--env'"),
        (["drift", "--env", "dev", "-o", "json", "--bogus"], "drift", "No such option: --bogus"),
        (
            ["--env", "dev", "--dry-run", "--lock-timeout", "soon", "--output=json"],
            "reconcile",
            "Invalid value for '--lock-timeout'",
        ),
        (["--output", "json"], "reconcile", "missing --env"),
        (["apply", "--output", "json"], "apply", "Missing argument"),
        (["render", "--env", "dev", "--output", "json", "--set"], "render", "requires an argument"),
        (["--output", "json", "nosuch"], "reconcile", "No such command 'nosuch'"),
        (["policy", "test", "--bogus", "--output", "json"], "policy test", "No such option"),
    ],
)
def test_usage_error_with_output_json_is_one_json_document(
    args: list[str], command: str, message: str
) -> None:
    result = run_reconcile(*args)
    assert result.exit_code == 2
    document = json.loads(result.stdout)
    assert document["command"] == command
    assert document["ok"] is False and document["exit_code"] == 2
    assert message in document["error"]["message"]
    program = "reconcile" if command == "reconcile" else f"reconcile {command}"
    assert document["error"]["hint"] == f"see `{program} --help`"
    assert result.stderr == ""


def test_usage_error_without_output_json_stays_text() -> None:
    result = run_reconcile("validate", "--bogus")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "No such option: --bogus" in result.stderr


def test_console_script_prints_only_the_json_document() -> None:
    result = subprocess.run(
        [str(BIN / "reconcile"), "validate", "--output", "json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert json.loads(result.stdout)["error"]["hint"] == "see `reconcile validate --help`"
    assert result.stderr == ""
