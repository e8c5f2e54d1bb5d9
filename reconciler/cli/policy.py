"""``reconcile policy test``: run the policies' own tests (Rego ``test_*`` rules and fixtures).

Prints one line per test (``PASS``/``FAIL``, name, file and, on failure, why) and a summary, or
with ``--output json`` one document (the envelope every command uses) listing every test;
exits 0 when every test passes, 1 when one fails, none is found or the policies cannot be loaded.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.text import Text

from ingestion.exitcodes import ExitCode
from ingestion.shared import usage
from reconciler.cli import common, lazy

if TYPE_CHECKING:
    from reconciler import policy
else:
    policy = lazy.module("reconciler.policy")

app = typer.Typer(
    help="Salam's Rego policies (policies/).",
    no_args_is_help=True,
    rich_markup_mode=usage.HELP_MARKUP,
)

PoliciesOption = Annotated[
    Path | None,
    typer.Option("--policies", help="Policy directory (default: policies/ under the root)."),
]


@app.command("test")
def test_command(
    policies: PoliciesOption = None,
    root: common.RootOption = None,
    output: common.OutputOption = common.Format.TEXT,
    debug: common.DebugOption = False,
) -> None:
    """Run the policies' Rego test rules and fixture cases; exit 1 if any fails."""
    report = common.Report("policy test", output)

    def body() -> NoReturn:
        directory = policies or policy.policy_dir(common.project_root(root))
        try:
            results = policy.run_tests(directory)
        except policy.PolicyError as exc:
            raise common.CommandError(exc.message, exc.hint) from exc
        if not results:
            hint = "add test_* rules in tests/*.rego or cases in tests/fixtures/*.yaml"
            raise common.CommandError(f"no policy tests found under {directory}/tests", hint)
        failed = sum(not r.passed for r in results)
        report.document.update(
            {
                "policies": str(directory),
                "tests": [_json(r) for r in results],
                "passed": len(results) - failed,
                "failed": failed,
            }
        )
        report.finish(ExitCode.ERROR if failed else ExitCode.OK, _text(results, failed))

    common.run(report, body, debug)


def _text(results: list[policy.PolicyTestResult], failed: int) -> Text:
    text = Text()
    for result in results:
        text.append(f"{_line(result)}\n", style="" if result.passed else "red")
    text.append(f"{len(results) - failed} passed, {failed} failed\n")
    return text


def _line(result: policy.PolicyTestResult) -> str:
    status = "PASS" if result.passed else "FAIL"
    text = f"{status}  {result.name}  ({result.source})"
    return f"{text}: {result.detail}" if result.detail else text


def _json(result: policy.PolicyTestResult) -> dict[str, object]:
    return {
        "name": result.name,
        "source": result.source,
        "passed": result.passed,
        "detail": result.detail,
    }
