"""``reconcile --env E [--dry-run]``: show the change set, then (without --dry-run) apply it.

The default command of ``reconcile``. A prod apply asks for confirmation on a terminal and
refuses without one unless ``--yes``. Exit codes: 0 in sync / applied, 1 error or rolled back,
3 invalid config, 4 changes pending with ``--dry-run --exit-code``, 5 the restore after a failed
apply could not put everything back (what was not restored is listed, with the journal keeping
its before-images).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.text import Text

from ingestion.exitcodes import ExitCode
from reconciler import lock, output
from reconciler.cli import common, lazy
from reconciler.cli.progress import Progress
from reconciler.model import ApplyStatus

if TYPE_CHECKING:
    from reconciler import changefile, engine, move
else:
    changefile = lazy.module("reconciler.changefile")
    engine = lazy.module("reconciler.engine")
    move = lazy.module("reconciler.move")

DryRunOption = Annotated[
    bool, typer.Option("--dry-run", help="Show the change set; change nothing.")
]
ExitCodeOption = Annotated[
    bool, typer.Option("--exit-code", help="With --dry-run: exit 4 when changes are pending.")
]
PruneOption = Annotated[
    bool, typer.Option("--prune/--no-prune", help="Delete Salam's resources whose job is gone.")
]
AllowEmptyOption = Annotated[
    bool, typer.Option("--allow-empty", help="Allow deleting every managed resource.")
]
AdoptOption = Annotated[
    bool,
    typer.Option(
        "--adopt",
        help="Take over in place a live object not yet Salam's on a job's key (as if every "
        "job config said adopt: true); without it such an object blocks applying.",
    ),
]
JobOption = Annotated[list[str] | None, typer.Option("--job", help="Only this job (repeatable).")]
BackendOption = Annotated[
    list[str] | None, typer.Option("--backend", help="Only this backend (repeatable).")
]
YesOption = Annotated[
    bool, typer.Option("--yes", "-y", help="Apply without asking (needed for prod off a terminal).")
]
LockTimeoutOption = Annotated[
    float, typer.Option("--lock-timeout", help="Seconds to wait for another apply.")
]
RevisionOption = Annotated[
    str | None,
    typer.Option("--revision", help="Render the configs as they were at this git revision."),
]
AllowDirtyOption = Annotated[
    bool, typer.Option("--allow-dirty", help="Allow applying uncommitted changes to prod.")
]
ChangedSinceOption = Annotated[
    str | None,
    typer.Option(
        "--changed-since",
        help="With --dry-run: only the jobs whose files changed since this git revision (all "
        "of them when environment.yaml, the Spark lock or the policies changed); for pull-request "
        "CI, e.g. --changed-since origin/main.",
    ),
]
OutOption = Annotated[
    Path | None,
    typer.Option("--out", help="With --dry-run: save the change set for `reconcile apply FILE`."),
]


@dataclass(frozen=True)
class RunMode:
    """How one reconcile run behaves beyond its engine options."""

    dry_run: bool = False
    exit_code: bool = False
    yes: bool = False
    out: Path | None = None
    saved: dict[str, Any] | None = None
    epilogue: str = ""
    # called under the lock once live state matches (in sync, or applied): rollback's pin
    on_synced: Callable[[engine.Reconciliation], None] | None = None
    progress: Progress | None = None  # the stages of a long run (also in the engine options)


def options(
    root: common.RootOption,
    env: str,
    set_: list[str] | None,
    *,
    job: list[str] | None = None,
    backend: list[str] | None = None,
    **settings: Any,
) -> engine.ReconcileOptions:
    """Engine options from the CLI's values; ``settings`` are ReconcileOptions fields by name.
    A move's progress (waiting for a fire time or a run in flight) goes to stderr."""
    settings.setdefault("moving", move.MoveOptions(progress=_progress))
    return engine.ReconcileOptions(
        root=common.project_root(root),
        env=env,
        overrides=tuple(set_ or ()),
        jobs=tuple(job or ()),
        backends=tuple(backend or ()),
        **settings,
    )


def _progress(message: str) -> None:
    typer.echo(f"move: {message}", err=True)


def run(report: common.Report, opts: engine.ReconcileOptions, mode: RunMode) -> NoReturn:
    """Reconcile one environment; never returns (exits with the outcome's code)."""
    try:
        _run(report, opts, mode)
    finally:
        if mode.progress is not None:
            mode.progress.stop()


def _run(report: common.Report, opts: engine.ReconcileOptions, mode: RunMode) -> NoReturn:
    try:
        with engine.prepare(opts, for_apply=not mode.dry_run) as current:
            _notes(report, current.notes)
            report.diagnostics.extend(current.warnings)
            if mode.saved is not None:
                changefile.check(mode.saved, current)
            report.document.update(
                {
                    "environment": opts.env,
                    "dry_run": mode.dry_run,
                    "change_set": output.change_set_json(current.change_set),
                    "paused_by_operator": [str(r.key) for r in current.paused()],
                    "revision": current.revision,
                }
            )
            if mode.out is not None:
                changefile.write(mode.out, current)
                report.document["saved_to"] = str(mode.out)
            text = output.change_set_text(current.change_set, current.paused())
            if mode.progress is not None:
                mode.progress.pause()  # the change set (and a prompt) print on a clear line
            if not mode.dry_run and current.change_set.in_sync:
                engine.remember(current)
                _synced(mode, current)
            if mode.dry_run or current.change_set.in_sync:
                pending = mode.exit_code and mode.dry_run and not current.change_set.in_sync
                text.append(mode.epilogue if current.change_set.in_sync else "")
                report.finish(ExitCode.DIFFERENCES if pending else ExitCode.OK, text)
            if report.fmt is common.Format.TEXT:
                output.console().print(text, end="")
            confirm(opts.env, mode.yes, len(current.change_set.pending()))
            outcome = engine.apply(current)
            if outcome.status in (ApplyStatus.APPLIED, ApplyStatus.UNVERIFIED):
                _synced(mode, current)
    except engine.EngineError as exc:
        raise common.CommandError(str(exc), exc.hint) from exc
    except lock.LockTimeout as exc:
        raise common.CommandError(
            str(exc), "wait for it to finish, or raise --lock-timeout"
        ) from exc
    except changefile.StaleChangeSet as exc:
        hint = "compute a new one: reconcile --env ENV --dry-run --out FILE"
        raise common.CommandError(str(exc), hint) from exc
    if mode.progress is not None:
        mode.progress.stop()  # the results print on a clear line
    finish(report, outcome, mode.epilogue)


def _synced(mode: RunMode, current: engine.Reconciliation) -> None:
    if mode.on_synced is not None:
        mode.on_synced(current)


def _notes(report: common.Report, notes: list[str]) -> None:
    report.document["notes"] = notes
    if report.fmt is common.Format.TEXT:
        for note in notes:
            typer.echo(f"note: {note}", err=True)


def confirm(env: str, yes: bool, count: int) -> None:
    """A protected environment's apply: asked on a terminal, else refused without --yes."""
    if yes or env not in engine.PROTECTED_ENVIRONMENTS:
        return
    if not sys.stdin.isatty():
        raise common.CommandError(
            f"refusing to apply {count} change(s) to {env} without confirmation",
            "pass --yes (this is not a terminal, so nobody can be asked)",
        )
    if not typer.confirm(f"Apply {count} change(s) to {env}?", default=False):
        raise common.CommandError("apply cancelled; nothing was changed", "", ExitCode.ERROR)


def finish(report: common.Report, outcome: engine.ApplyOutcome, epilogue: str) -> NoReturn:
    """Report how an apply ended (its results, restores) and exit with its code."""
    report.document.update(
        {
            "outcome": outcome.status.value,
            "apply_id": outcome.apply_id,
            "journal": str(outcome.journal) if outcome.journal else None,
            "results": output.results_json(outcome.results),
            "restored": output.results_json(outcome.restored),
            "not_restored": [str(r.change.key) for r in outcome.restored if not r.ok],
            "unverified": [str(c.key) for c in outcome.unverified],
        }
    )
    text = output.results_text(outcome.results)
    if outcome.status is ApplyStatus.APPLIED:
        text.append(
            f"Applied {len(outcome.results)} change(s) (apply {outcome.apply_id}).\n", style="green"
        )
        text.append(epilogue, style="bold yellow")
    elif outcome.status is ApplyStatus.LEASE_LOST:
        text.append(
            "STOPPED: the apply lease may have passed to another holder, so nothing more was "
            f"written and nothing restored; the holder converges from the live state "
            f"(before-images in {outcome.journal}).\n",
            style="bold red",
        )
    elif outcome.status is ApplyStatus.UNVERIFIED:
        text.append(
            "Applied, but re-reading still shows differences for: "
            + ", ".join(str(c.key) for c in outcome.unverified)
            + "\n",
            style="red",
        )
    else:
        text.append_text(_restore_text(outcome))
    report.finish(outcome.status.exit_code, text)


def _restore_text(outcome: engine.ApplyOutcome) -> Text:
    """What the restore after a failed apply put back, and (loudly) what it could not."""
    done = [r for r in outcome.restored if r.ok]
    failed = [r for r in outcome.restored if not r.ok]
    text = Text("Apply failed; restoring the previous state from the journal:\n", style="red")
    text.append_text(output.results_text(done))
    if not failed:
        text.append("Restored: live state is as it was before this apply.\n", style="bold red")
        return text
    text.append(f"NOT restored ({len(failed)}):\n", style="bold red")
    text.append_text(output.results_text(failed))
    backends = ", ".join(sorted({r.change.key.backend for r in failed}))
    text.append(
        f"RESTORE FAILED: {len(done)} resource(s) restored, {len(failed)} not; their "
        f"before-images are in {outcome.journal}. Run reconcile again once {backends} "
        "works again (it converges from the live state), or fix them by hand.\n",
        style="bold red",
    )
    return text


def command(
    ctx: typer.Context,
    env: Annotated[str | None, typer.Option("--env", "-e", help="Environment.")] = None,
    dry_run: DryRunOption = False,
    exit_code: ExitCodeOption = False,
    prune: PruneOption = True,
    allow_empty: AllowEmptyOption = False,
    adopt: AdoptOption = False,
    job: JobOption = None,
    backend: BackendOption = None,
    yes: YesOption = False,
    lock_timeout: LockTimeoutOption = 60.0,
    revision: RevisionOption = None,
    allow_dirty: AllowDirtyOption = False,
    changed_since: ChangedSinceOption = None,
    out: OutOption = None,
    fail_on_warn: common.FailOnWarnOption = False,
    output_format: common.OutputOption = common.Format.TEXT,
    set_: common.SetOption = None,
    root: common.RootOption = None,
    debug: common.DebugOption = False,
) -> None:
    """Reconcile an environment: `reconcile --env prod --dry-run` shows the change set."""
    if ctx.invoked_subcommand:
        return
    if env is None:
        raise typer.BadParameter(
            "missing --env (e.g. reconcile --env dev --dry-run)", param_hint="--env"
        )
    if out is not None and not dry_run:
        raise typer.BadParameter("--out saves a change set and needs --dry-run", param_hint="--out")
    if changed_since is not None and (not dry_run or out is not None):
        raise typer.BadParameter(
            "--changed-since narrows a dry-run (pull-request CI) and cannot be saved or applied: "
            "apply the whole environment, or name jobs with --job",
            param_hint="--changed-since",
        )
    report = common.Report("reconcile", output_format)
    opts = options(
        root,
        env,
        set_,
        job=job,
        backend=backend,
        prune=prune,
        allow_empty=allow_empty,
        adopt=adopt,
        lock_timeout=lock_timeout,
        revision=revision,
        allow_dirty=allow_dirty,
        fail_on_warn=fail_on_warn,
        changed_since=changed_since,
        progress=(progress := Progress()),
    )
    mode = RunMode(dry_run=dry_run, exit_code=exit_code, yes=yes, out=out, progress=progress)
    common.run(report, lambda: run(report, opts, mode), debug)
