"""``reconcile render --env E [--check]``: write the environment's plans to manifests/rendered/E/.

The committed files omit the git fields (the commit they sit in is their revision), so a commit
that does not change a job does not change its file. ``--check`` writes nothing and exits 4
listing every stale, missing or extra file, as CI's guard against unrendered config changes.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.text import Text

from ingestion.exitcodes import ExitCode
from ingestion.plan import canonical
from reconciler.cli import common, lazy

if TYPE_CHECKING:
    from ingestion.plan import environment as plans
else:
    plans = lazy.module("ingestion.plan.environment")

RENDERED_DIR = Path("manifests") / "rendered"

CheckOption = Annotated[
    bool, typer.Option("--check", help="Write nothing; exit 4 if the files are stale.")
]


def expected_files(
    environment_root: Path, env: str, rendered: dict[str, dict[str, object]]
) -> dict[Path, str]:
    directory = environment_root / RENDERED_DIR / env
    return {
        directory / f"{job}.json": canonical.dumps(canonical.without_git(plan))
        for job, plan in rendered.items()
    }


def stale_files(directory: Path, expected: dict[Path, str]) -> dict[str, list[str]]:
    """Files that differ from what rendering gives now: changed, missing and extra."""
    present = set(directory.glob("*.json")) if directory.is_dir() else set()
    changed = [p for p in expected if p in present and p.read_text(encoding="utf-8") != expected[p]]
    return {
        "changed": sorted(p.name for p in changed),
        "missing": sorted(p.name for p in expected if p not in present),
        "extra": sorted(p.name for p in present - set(expected)),
    }


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
        expected = expected_files(
            environment.root, env, plans.render_all(environment, with_git=False)
        )
        directory = environment.root / RENDERED_DIR / env
        stale = stale_files(directory, expected)
        report.document.update(
            {"environment": env, "directory": (RENDERED_DIR / env).as_posix(), **stale}
        )
        count = sum(len(v) for v in stale.values())
        if check:
            report.finish(ExitCode.DIFFERENCES if count else ExitCode.OK, _check_text(env, stale))
        _write(directory, expected, stale["extra"])
        report.finish(
            ExitCode.OK,
            Text(f"Rendered {len(expected)} plan(s) to {directory}; {count} file(s) changed.\n"),
        )

    common.run(report, body, debug)


def _write(directory: Path, expected: dict[Path, str], extra: list[str]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for path, text in expected.items():
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            temporary = path.with_suffix(".json.tmp")
            temporary.write_text(text, encoding="utf-8")
            temporary.replace(path)
    for name in extra:
        (directory / name).unlink()


def _check_text(env: str, stale: dict[str, list[str]]) -> Text:
    if not any(stale.values()):
        return Text(f"Rendered plans of '{env}' are up to date.\n", style="green")
    text = Text(
        f"Rendered plans of '{env}' are stale (run `reconcile render --env {env}`):\n",
        style="yellow",
    )
    for kind, names in stale.items():
        for name in names:
            text.append(f"  {kind}: {RENDERED_DIR / env / name}\n")
    return text
