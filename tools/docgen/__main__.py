"""``python -m tools.docgen [--check]``: regenerate the reference pages under docs/reference/.

Run from the project root (or pass ``--root``). Without ``--check`` it rewrites the stale pages
(:mod:`tools.docgen.pages`) and exits 0; with ``--check`` it writes nothing and exits 4 naming
every stale or missing page, like ``reconcile render --check``: CI's guard against a schema or a
command changing without its reference. Output, ``--output json`` envelope and error handling
are the ``reconcile`` commands' own (:mod:`reconciler.cli.common`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.text import Text

from ingestion.exitcodes import ExitCode
from reconciler.cli import common
from tools.docgen import pages

REGENERATE = "python -m tools.docgen"

CheckOption = Annotated[
    bool, typer.Option("--check", help="Write nothing; exit 4 if a reference page is stale.")
]

app = typer.Typer(add_completion=False, pretty_exceptions_show_locals=False)


@app.command()
def command(
    check: CheckOption = False,
    output: common.OutputOption = common.Format.TEXT,
    root: common.RootOption = None,
    debug: common.DebugOption = False,
) -> None:
    """Regenerate docs/reference/ (configuration from the schemas, CLI from the commands)."""
    report = common.Report("docgen", output)

    def body() -> NoReturn:
        project = common.project_root(root)
        expected = pages.expected_pages()
        stale = pages.stale_pages(project, expected)
        report.document.update({"pages": sorted(p.as_posix() for p in expected), "stale": stale})
        if check:
            report.finish(ExitCode.DIFFERENCES if stale else ExitCode.OK, _check_text(stale))
        for relative in stale:
            pages.write(project / relative, expected[Path(relative)])
        report.finish(ExitCode.OK, Text(f"Reference pages: {len(stale)} rewritten.\n"))

    common.run(report, body, debug)


def _check_text(stale: list[str]) -> Text:
    if not stale:
        return Text("Reference pages are up to date.\n", style="green")
    text = Text(f"Reference pages are stale (run `{REGENERATE}`):\n", style="yellow")
    for name in stale:
        text.append(f"  {name}\n")
    return text


if __name__ == "__main__":
    app(prog_name=REGENERATE)
