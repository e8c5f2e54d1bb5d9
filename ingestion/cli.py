"""The ``ingest`` command: print a job's orchestration plan (and, with later modules, run it).

``python -m ingestion --config FILE --dump-orchestration-plan`` (the seed's spelling) is mapped
onto ``ingest plan --config FILE`` by :mod:`ingestion.__main__`. A usage error is click's text,
exit 2 — or, when ``--json`` (``ingest run``'s) or ``--output json`` is among the arguments,
one JSON document on stdout shaped like ``reconcile``'s (:class:`JsonUsageGroup`).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from ingestion.config import loader
from ingestion.config.diagnostics import ConfigError
from ingestion.exitcodes import HELP, ExitCode
from ingestion.job import cli_commands as job_commands
from ingestion.plan import canonical, gitstamp, render
from ingestion.shared import usage
from ingestion.worker import command as worker_command

JSON_SPELLINGS = (("--json",), ("--output", "json"), ("-o", "json"), ("--output=json",))


class IngestGroup(usage.JsonUsageGroup):
    """The ``ingest`` group: a usage error under ``--json`` is a JSON document."""

    program = "ingest"
    json_spellings = JSON_SPELLINGS


app = typer.Typer(
    cls=IngestGroup,
    help=f"Run Salam ingestion jobs and print their orchestration plans. {HELP}",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    add_completion=True,
    rich_markup_mode=usage.HELP_MARKUP,
)

ConfigOption = Annotated[
    Path, typer.Option("--config", "-c", help="Job config: environments/<env>/jobs/<job>.yaml")
]


@app.callback()
def root() -> None:
    """Run Salam ingestion jobs and print their orchestration plans."""


@app.command("plan")
def plan_command(config: ConfigOption, set_: job_commands.SetOption = None) -> None:
    """Print the job's orchestration plan as canonical JSON on stdout."""
    try:
        environment, job = loader.load_job(config, set_ or [])
    except ConfigError as exc:
        report_config_error(exc)
    git = gitstamp.stamp(environment.root, job.path)
    sys.stdout.write(canonical.dumps(render.render(job, environment, git)))


def report_config_error(exc: ConfigError) -> None:
    """Print every diagnostic on stderr and exit 3."""
    for diagnostic in exc.diagnostics:
        typer.echo(diagnostic.render(), err=True)
    raise typer.Exit(ExitCode.INVALID)


app.command("worker", help=worker_command.command.__doc__)(worker_command.command)
app.command("run", help=job_commands.run.__doc__)(job_commands.run)
app.command("maintain", help=job_commands.maintain.__doc__)(job_commands.maintain)
app.command("engine", help=job_commands.engine.__doc__)(job_commands.engine)
app.command("demo-source", help=job_commands.demo_source.__doc__)(job_commands.demo_source)


def main() -> None:
    app()
