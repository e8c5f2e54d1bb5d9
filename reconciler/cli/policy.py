"""``reconcile policy test``: run the policies' own tests (Rego ``test_*`` rules and fixtures).

Prints one line per test (``PASS``/``FAIL``, name, file and, on failure, why) and a summary;
exits 0 when every test passes, 1 when one fails or the policies cannot be loaded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ingestion.exitcodes import ExitCode
from reconciler import policy
from reconciler.cli import common

app = typer.Typer(help="Salam's Rego policies (policies/).", no_args_is_help=True)

PoliciesOption = Annotated[
    Path | None,
    typer.Option("--policies", help="Policy directory (default: policies/ under the root)."),
]


@app.command("test")
def test_command(
    policies: PoliciesOption = None,
    root: common.RootOption = None,
) -> None:
    """Run the policies' Rego test rules and fixture cases; exit 1 if any fails."""
    directory = policies or policy.policy_dir(common.project_root(root))
    try:
        results = policy.run_tests(directory)
    except policy.PolicyError as exc:
        typer.echo(f"Error: {exc}", err=True)
        raise typer.Exit(int(ExitCode.ERROR)) from None
    for result in results:
        typer.echo(_line(result))
    failed = sum(not r.passed for r in results)
    typer.echo(f"{len(results) - failed} passed, {failed} failed")
    if failed or not results:
        if not results:
            typer.echo(f"Error: no policy tests found under {directory}/tests", err=True)
        raise typer.Exit(int(ExitCode.ERROR))


def _line(result: policy.PolicyTestResult) -> str:
    status = "PASS" if result.passed else "FAIL"
    text = f"{status}  {result.name}  ({result.source})"
    return f"{text}: {result.detail}" if result.detail else text
