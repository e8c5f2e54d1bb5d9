"""``reconcile pause --env E --job J [--note TEXT]`` and ``reconcile resume --env E --job J``: hold
one job's schedules paused by hand, and let them go again (:mod:`reconciler.pausing`).

Only wires: the change is shown, a protected environment asks for confirmation on a terminal
(or needs ``--yes``), as ``reconcile --env prod`` does, and the apply reports as an apply.
The pause is an operator's: ``reconcile drift`` reports it with its note, later applies and the
controller's self-heal keep it. Exit codes: 0 done (or nothing to do: already paused, not
paused), 1 error (a backend that cannot pause, nothing live yet, a failed apply), 2 unknown job,
3 invalid config.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.text import Text

from ingestion.exitcodes import ExitCode
from reconciler import lock, output
from reconciler.cli import common, lazy, reconcile

if TYPE_CHECKING:
    from reconciler import engine, pausing
else:
    engine = lazy.module("reconciler.engine")
    pausing = lazy.module("reconciler.pausing")

JobOption = Annotated[
    str, typer.Option("--job", help="The job (its schedules on Temporal or Kubernetes).")
]
NoteOption = Annotated[
    str | None, typer.Option("--note", help="Why: kept with the pause, shown by drift and the UI.")
]


def pause(
    env: common.EnvOption,
    job: JobOption,
    note: NoteOption = None,
    backend: reconcile.BackendOption = None,
    yes: reconcile.YesOption = False,
    lock_timeout: reconcile.LockTimeoutOption = 60.0,
    output_: common.OutputOption = common.Format.TEXT,
    set_: common.SetOption = None,
    root: common.RootOption = None,
    debug: common.DebugOption = False,
) -> None:
    """Pause a job's schedules (Temporal, Kubernetes) by hand, as an operator's pause."""
    request = pausing.Request(pausing.Verb.PAUSE, job, note or "")
    opts = reconcile.options(root, env, set_, backend=backend, lock_timeout=lock_timeout)
    report = common.Report("pause", output_)
    common.run(report, lambda: _run(report, opts, request, yes), debug)


def resume(
    env: common.EnvOption,
    job: JobOption,
    backend: reconcile.BackendOption = None,
    yes: reconcile.YesOption = False,
    lock_timeout: reconcile.LockTimeoutOption = 60.0,
    output_: common.OutputOption = common.Format.TEXT,
    set_: common.SetOption = None,
    root: common.RootOption = None,
    debug: common.DebugOption = False,
) -> None:
    """Resume a paused job's schedules: back to what its config says."""
    request = pausing.Request(pausing.Verb.RESUME, job)
    opts = reconcile.options(root, env, set_, backend=backend, lock_timeout=lock_timeout)
    report = common.Report("resume", output_)
    common.run(report, lambda: _run(report, opts, request, yes), debug)


def _run(
    report: common.Report,
    opts: engine.ReconcileOptions,
    request: pausing.Request,
    yes: bool,
) -> NoReturn:
    def show(current: engine.Reconciliation) -> None:
        report.document["change_set"] = output.change_set_json(current.change_set)
        if report.fmt is common.Format.TEXT:
            output.console().print(output.change_set_text(current.change_set), end="")
        reconcile.confirm(opts.env, yes, len(current.change_set.pending()))

    report.document.update({"environment": opts.env, "job": request.job})
    try:
        done = pausing.run(opts, request, show)
    except pausing.Refused as exc:
        raise common.CommandError(str(exc), exc.hint, exc.code) from exc
    except engine.EngineError as exc:
        raise common.CommandError(str(exc), exc.hint) from exc
    except lock.LockTimeout as exc:
        hint = "wait for it to finish, or raise --lock-timeout"
        raise common.CommandError(str(exc), hint) from exc
    if done.applied is None:
        report.document["note"] = done.note
        report.finish(ExitCode.OK, Text(done.note + "\n"))
    reconcile.finish(report, done.applied, _epilogue(opts.env, request))


def _epilogue(env: str, request: pausing.Request) -> str:
    if request.verb is pausing.Verb.PAUSE:
        return (
            f"{request.said()}; kept by later applies. "
            f"`reconcile resume --env {env} --job {request.job}` resumes it.\n"
        )
    return f"{request.said()}: back to what the config says.\n"
