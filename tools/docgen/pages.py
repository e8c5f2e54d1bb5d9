"""The generated reference pages under ``docs/reference/``: what they should say, which are stale.

:func:`expected_pages` renders each page from its source as of now (the JSON schemas for
``configuration.md``, the ``reconcile`` and ``ingest`` typer apps for ``cli.md``, the metric
tables for ``metrics.md``);
:func:`stale_pages` names those whose committed text differs, and :func:`write` replaces one
atomically. Called by the ``python -m tools.docgen`` command (:mod:`tools.docgen.__main__`) and
the tests. An unreadable schema raises ``OSError``/``ValueError``; writing raises ``OSError``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

import ingestion
from ingestion import cli as ingest_cli
from ingestion.worker import outcomes
from reconciler import metrics
from reconciler.cli import app as reconcile_cli
from tools.docgen import cli_reference, config_reference, metrics_reference

REFERENCE_DIR = Path("docs") / "reference"
CONFIGURATION = REFERENCE_DIR / "configuration.md"
CLI = REFERENCE_DIR / "cli.md"
METRICS = REFERENCE_DIR / "metrics.md"
METRIC_SECTIONS = (
    (
        "Controller: `reconcile serve`, `GET /metrics`",
        "Every environment the controller serves, from its status model (each comparison's "
        "schedule health, drift and the events file; applies this process ran).",
        metrics.CONTROLLER,
    ),
    (
        "Worker: `ingest worker --listen HOST:PORT`, `GET /metrics`",
        "The Temporal SDK's own families (`temporal_*`: pollers, task latencies, workflow and "
        "activity counts; see Temporal's SDK metrics reference), and Salam's outcome counter:",
        (outcomes.METRIC,),
    ),
    (
        "Drift file: `reconcile drift --metrics-file PATH`",
        "For node-exporter's textfile collector, written atomically after each check.",
        metrics.DRIFT_FILE,
    ),
)
SCHEMA_DIR = Path(ingestion.__file__).resolve().parent / "schemas"


def load_schemas(directory: Path = SCHEMA_DIR) -> dict[str, dict[str, Any]]:
    """Every ``*.schema.json`` of ``directory``, by file name."""
    return {
        path.name: json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(directory.glob("*.schema.json"))
    }


def programs() -> list[tuple[str, Any]]:
    """The two console scripts as the click commands typer builds."""
    return [
        ("reconcile", typer.main.get_command(reconcile_cli.app)),
        ("ingest", typer.main.get_command(ingest_cli.app)),
    ]


def expected_pages() -> dict[Path, str]:
    """Each generated page (relative to the project root) and its text as of now."""
    return {
        CONFIGURATION: config_reference.render(load_schemas()),
        CLI: cli_reference.render(programs()),
        METRICS: metrics_reference.render(METRIC_SECTIONS),
    }


def stale_pages(root: Path, expected: dict[Path, str]) -> list[str]:
    """Pages whose committed text differs from ``expected`` (missing ones included)."""
    stale = []
    for relative, text in expected.items():
        path = root / relative
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            stale.append(relative.as_posix())
    return stale


def write(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` through a temporary file beside it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".md.tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)
