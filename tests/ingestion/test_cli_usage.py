"""``ingest``'s usage errors: one JSON document with ``--json`` (``reconcile``'s envelope), exit
2; click's text on stderr without it."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from ingestion.cli import app


@pytest.mark.parametrize(
    ("args", "command", "message"),
    [
        (["run", "--json"], "run", "Missing option '--config'"),
        (["run", "--config", "x.yaml", "--json", "--window", "1h"], "run", "No such option"),
        (["plan", "--output", "json"], "plan", "No such option: --output"),
    ],
)
def test_ingest_usage_error_with_json_is_one_json_document(
    args: list[str], command: str, message: str
) -> None:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    document = json.loads(result.stdout)
    assert document == {
        "command": command,
        "ok": False,
        "exit_code": 2,
        "diagnostics": [],
        "error": {
            "message": document["error"]["message"],
            "hint": f"see `ingest {command} --help`",
        },
    }
    assert message in document["error"]["message"]
    assert result.stderr == ""


def test_ingest_usage_error_without_json_stays_text() -> None:
    result = CliRunner().invoke(app, ["run"])
    assert result.exit_code == 2 and result.stdout == ""
    assert "Missing option '--config'" in result.stderr
