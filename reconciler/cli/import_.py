"""``reconcile import --env E --from BACKEND [--dry-run]``: bring unmarked schedules under git.

Reads every schedule without a Salam marker at the backend's configured location (a crontab
target, a Temporal namespace, a Kubernetes namespace, a DAGs folder), and writes the job configs
that render them, each with ``adopt: true`` (:mod:`reconciler.importing` decides what and
where), so that ``reconcile --env E --dry-run`` right after shows only adopt (``<=``) changes.
Schedules it cannot map are listed with the reason, never guessed. ``--dry-run`` prints the files
instead of writing them. What is written is validated; if the environment no longer loads, every
file is put back and the problems are listed (exit 3). Exit codes: 0 done (also when some
schedules were not imported: they are listed), 1 error, 3 invalid result.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.text import Text

from ingestion.exitcodes import ExitCode
from reconciler.cli import common, lazy

if TYPE_CHECKING:
    from ingestion.config import loader
    from reconciler import atomicfile, importing, validation
    from reconciler.backends import base, registry
else:
    atomicfile = lazy.module("reconciler.atomicfile")
    base = lazy.module("reconciler.backends.base")
    importing = lazy.module("reconciler.importing")
    loader = lazy.module("ingestion.config.loader")
    registry = lazy.module("reconciler.backends.registry")
    validation = lazy.module("reconciler.validation")

SOURCES = ("crontab", "temporal", "kubernetes", "airflow")
FromOption = Annotated[
    str, typer.Option("--from", help=f"The backend to read: {', '.join(SOURCES)}.")
]
DryRunOption = Annotated[
    bool, typer.Option("--dry-run", help="Show the job configs it would write; write nothing.")
]


def command(
    env: common.EnvOption,
    source: FromOption,
    dry_run: DryRunOption = False,
    output_: common.OutputOption = common.Format.TEXT,
    set_: common.SetOption = None,
    root: common.RootOption = None,
    debug: common.DebugOption = False,
) -> None:
    """Write job configs (adopt: true) for a backend's schedules that Salam does not own yet."""
    if source not in SOURCES:
        raise typer.BadParameter(f"one of {', '.join(SOURCES)}", param_hint="--from")
    report = common.Report("import", output_)

    def body() -> NoReturn:
        environment = common.load(report, root, env, set_)
        proposal = importing.propose(environment.root, env, _unmanaged(environment, source))
        if not dry_run:
            _write(environment.root, env, set_, proposal)
        report.document.update(_document(env, source, dry_run, proposal))
        report.finish(ExitCode.OK, _text(env, source, dry_run, proposal))

    common.run(report, body, debug)


def _unmanaged(environment: loader.Environment, source: str) -> list[base.Unmanaged]:
    registry.load_all()
    with base.create(source, environment) as backend:
        if not isinstance(backend, base.Importable):
            raise common.CommandError(f"import from '{source}' is not supported")
        return backend.unmanaged()


def _write(root: Path, env: str, overrides: list[str] | None, proposal: importing.Proposal) -> None:
    """Write every file at once; put them all back when the environment no longer loads."""
    files = {root / w.path: w.text.encode() for w in proposal.written}
    before = {path: path.read_bytes() for path in files if path.exists()}
    atomicfile.write_all(files)
    try:
        loader.load_environment(root, env, overrides or [])
    except loader.InvalidEnvironment as exc:
        for path in files:
            if path in before:
                atomicfile.write(path, before[path])
            else:
                path.unlink()
        raise validation.every_problem(exc) from exc


def _document(
    env: str, source: str, dry_run: bool, proposal: importing.Proposal
) -> dict[str, object]:
    return {
        "environment": env,
        "from": source,
        "dry_run": dry_run,
        "written": [
            {"path": w.path, "job": w.job, "from": str(w.key), "text": w.text}
            for w in proposal.written
        ],
        "not_imported": [{"from": str(s.key), "reason": s.reason} for s in proposal.skipped],
    }


def _text(env: str, source: str, dry_run: bool, proposal: importing.Proposal) -> Text:
    text = Text(f"Import from {source} into environment '{env}':\n", style="bold")
    for written in proposal.written:
        text.append(f"  ~ {written.path}", style="yellow")
        text.append(f"  (job {written.job}: runtime from {written.key})\n", style="dim")
        if dry_run:
            text.append("".join(f"      {line}\n" for line in written.text.splitlines()))
    for skipped in proposal.skipped:
        text.append(f"  ! {skipped.key}: {skipped.reason}\n", style="yellow")
    verb = "would be written" if dry_run else "written"
    text.append(
        f"{len(proposal.written)} job config(s) {verb}; "
        f"{len(proposal.skipped)} schedule(s) not imported.\n",
        style="bold",
    )
    if proposal.written:
        text.append(f"Next: `reconcile --env {env} --dry-run` shows them as adopt (<=).\n")
    return text
