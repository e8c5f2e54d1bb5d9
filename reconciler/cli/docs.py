"""``reconcile docs [--check]``: regenerate the reference pages under docs/reference/.

``docs/reference/configuration.md`` comes from ``ingestion/schemas/*.json``
(:mod:`reconciler.docgen`), ``docs/reference/cli.md`` from the ``reconcile`` and ``ingest``
typer apps (:mod:`reconciler.cli.clidoc`). ``--check`` writes nothing and exits 4 naming every
stale or missing page, like ``reconcile render --check``: CI's guard against a schema or a
command changing without its reference.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.text import Text

import ingestion
from ingestion.exitcodes import ExitCode
from reconciler import docgen
from reconciler.cli import clidoc, common

REFERENCE_DIR = Path("docs") / "reference"
CONFIGURATION = REFERENCE_DIR / "configuration.md"
CLI = REFERENCE_DIR / "cli.md"
SCHEMA_DIR = Path(ingestion.__file__).resolve().parent / "schemas"

CheckOption = Annotated[
    bool, typer.Option("--check", help="Write nothing; exit 4 if a reference page is stale.")
]


def load_schemas(directory: Path = SCHEMA_DIR) -> dict[str, dict[str, Any]]:
    """Every ``*.schema.json`` of ``directory``, by file name."""
    return {
        path.name: json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(directory.glob("*.schema.json"))
    }


def programs() -> list[tuple[str, Any]]:
    """The two console scripts as the click commands typer builds (imported late: the
    ``reconcile`` app imports this module)."""
    from ingestion import cli as ingest_cli
    from reconciler.cli import app as reconcile_cli

    return [
        ("reconcile", typer.main.get_command(reconcile_cli.app)),
        ("ingest", typer.main.get_command(ingest_cli.app)),
    ]


def expected_pages() -> dict[Path, str]:
    """Each generated page (relative to the project root) and its text as of now."""
    return {
        CONFIGURATION: docgen.render(load_schemas()),
        CLI: clidoc.render(programs()),
    }


def stale_pages(root: Path, expected: dict[Path, str]) -> list[str]:
    """Pages whose committed text differs from ``expected`` (missing ones included)."""
    stale = []
    for relative, text in expected.items():
        path = root / relative
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            stale.append(relative.as_posix())
    return stale


def command(
    check: CheckOption = False,
    output: common.OutputOption = common.Format.TEXT,
    root: common.RootOption = None,
    debug: common.DebugOption = False,
) -> None:
    """Regenerate docs/reference/ (configuration from the schemas, CLI from the commands)."""
    report = common.Report("docs", output)

    def body() -> NoReturn:
        project = common.project_root(root)
        expected = expected_pages()
        stale = stale_pages(project, expected)
        report.document.update({"pages": sorted(p.as_posix() for p in expected), "stale": stale})
        if check:
            report.finish(ExitCode.DIFFERENCES if stale else ExitCode.OK, _check_text(stale))
        for relative in stale:
            _write(project / relative, expected[Path(relative)])
        report.finish(ExitCode.OK, Text(f"Reference pages: {len(stale)} rewritten.\n"))

    common.run(report, body, debug)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".md.tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)


def _check_text(stale: list[str]) -> Text:
    if not stale:
        return Text("Reference pages are up to date.\n", style="green")
    text = Text("Reference pages are stale (run `reconcile docs`):\n", style="yellow")
    for name in stale:
        text.append(f"  {name}\n")
    return text
