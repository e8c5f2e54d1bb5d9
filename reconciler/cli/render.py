"""``reconcile render --env E [--check]``: write the environment's plans to manifests/rendered/E/.

The committed files omit the git fields (the commit they sit in is their revision), so a commit
that does not change a job does not change its file. ``--check`` writes nothing and exits 4
listing every stale, missing or extra file, as CI's guard against unrendered config changes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.text import Text

from ingestion.exitcodes import ExitCode
from reconciler import rendered
from reconciler.cli import common, lazy

if TYPE_CHECKING:
    from ingestion.plan import environment as plans
else:
    plans = lazy.module("ingestion.plan.environment")

CheckOption = Annotated[
    bool, typer.Option("--check", help="Write nothing; exit 4 if the files are stale.")
]


def command(
    env: common.EnvOption,
    check: CheckOption = False,
    output: common.OutputOption = common.Format.TEXT,
    set_: common.SetOption = None,
    root: common.RootOption = None,
    debug: common.DebugOption = False,
) -> None:
    """Render every plan of an environment into manifests/rendered/<env>/ (or check them)."""
    report = common.Report("render", output)

    def body() -> NoReturn:
        environment = common.load(report, root, env, set_)
        expected = rendered.expected_files(
            environment.root, env, plans.render_all(environment, with_git=False)
        )
        directory = rendered.directory(environment.root, env)
        stale = rendered.stale_files(directory, expected)
        report.document.update(
            {"environment": env, "directory": (rendered.RENDERED_DIR / env).as_posix(), **stale}
        )
        count = sum(len(v) for v in stale.values())
        if check:
            report.finish(ExitCode.DIFFERENCES if count else ExitCode.OK, _check_text(env, stale))
        rendered.write(directory, expected, stale["extra"])
        report.finish(
            ExitCode.OK,
            Text(f"Rendered {len(expected)} plan(s) to {directory}; {count} file(s) changed.\n"),
        )

    common.run(report, body, debug)


def _check_text(env: str, stale: dict[str, list[str]]) -> Text:
    if not any(stale.values()):
        return Text(f"Rendered plans of '{env}' are up to date.\n", style="green")
    text = Text(
        f"Rendered plans of '{env}' are stale (run `reconcile render --env {env}`):\n",
        style="yellow",
    )
    for kind, names in stale.items():
        for name in names:
            text.append(f"  {kind}: {rendered.RENDERED_DIR / env / name}\n")
    return text
