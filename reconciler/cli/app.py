"""Wire the ``reconcile`` commands; each command lives in its own module.

``reconcile --env prod --dry-run`` (no subcommand) reconciles an environment; subcommands
validate, render, lock and (in their modules) the rest. A usage error (missing or unknown option,
bad value) is click's text, exit 2 — or, when ``--output json`` is among the arguments, one
JSON document on stdout in every command's envelope (:class:`JsonUsageGroup`). :func:`main` is
the console script: it ends the process with ``os._exit`` after flushing, because the Temporal
SDK's threads can crash a short-lived process at interpreter exit.
"""

from __future__ import annotations

import gc
import os
import sys

import typer

from ingestion.exitcodes import HELP
from ingestion.shared import usage
from reconciler.cli import (
    apply,
    compare,
    drift,
    history,
    import_,
    lock,
    pause,
    policy,
    promote,
    reconcile,
    register,
    render,
    rollback,
    serve,
    status,
    ui,
    validate,
)

JSON_SPELLINGS = (("--output", "json"), ("-o", "json"), ("--output=json",), ("-ojson",))


class ReconcileGroup(usage.JsonUsageGroup):
    """The ``reconcile`` group: a usage error under ``--output json`` is a JSON document."""

    program = "reconcile"
    json_spellings = JSON_SPELLINGS


app = typer.Typer(
    cls=ReconcileGroup,
    help=f"Reconcile Salam's orchestration plans with the live schedulers. {HELP}",
    pretty_exceptions_show_locals=False,
    no_args_is_help=False,
    rich_markup_mode=usage.HELP_MARKUP,
)

app.callback(invoke_without_command=True)(reconcile.command)
app.command("validate", help=validate.command.__doc__)(validate.command)
app.command("render", help=render.command.__doc__)(render.command)
app.command("lock", help=lock.command.__doc__)(lock.command)
app.command("rollback", help=rollback.command.__doc__)(rollback.command)
app.command("apply", help=apply.command.__doc__)(apply.command)
app.command("register", help=register.command.__doc__)(register.command)
app.command("drift", help=drift.command.__doc__)(drift.command)
app.command("history", help=history.command.__doc__)(history.command)
app.command("pause", help=pause.pause.__doc__)(pause.pause)
app.command("resume", help=pause.resume.__doc__)(pause.resume)
app.command("status", help=status.command.__doc__)(status.command)
app.add_typer(policy.app, name="policy")
app.command("compare", help=compare.command.__doc__)(compare.command)
app.command("promote", help=promote.command.__doc__)(promote.command)
app.command("serve", help=serve.command.__doc__)(serve.command)
app.command("ui", help=ui.command.__doc__)(ui.command)
app.command("import", help=import_.command.__doc__)(import_.command)


# A run builds hundreds of thousands of objects that live until it ends (every job's config, the
# keys' positions, its plan) and frees few cycles: collecting the young generation every 700
# allocations, Python's default, made 10,000-job runs 10-15 % slower for nothing
# (bench/RESULTS.md). Collections still happen, a hundred times less often.
GC_THRESHOLDS = (100_000, 50, 100)


def main() -> None:
    """Console-script entry point: run, flush, and leave without interpreter teardown."""
    gc.set_threshold(*GC_THRESHOLDS)
    code: int | str | None = 0
    try:
        app()
    except SystemExit as exc:
        code = exc.code
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code if isinstance(code, int) else 1)
