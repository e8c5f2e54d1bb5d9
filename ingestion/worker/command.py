"""``ingest worker --env E``: the Temporal worker of one environment (wired in ``ingestion.cli``).

Loads and validates the environment (``--set`` overrides ``environment.yaml``, e.g.
``temporal.address=127.0.0.1:7233``), then polls every task queue it declares (or the
``--task-queue`` ones) until SIGTERM / SIGINT; ``--listen HOST:PORT`` (or
``SALAM_WORKER_LISTEN``) serves its probes and metrics there. Ends
with flush + ``os._exit``: the Temporal SDK's threads can crash a process at interpreter exit.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from ingestion.config import loader
from ingestion.config.diagnostics import ConfigError
from ingestion.exitcodes import ExitCode

EnvOption = Annotated[
    str, typer.Option("--env", "-e", help="Environment: a directory under environments/.")
]
SetOption = Annotated[
    list[str] | None,
    typer.Option(
        "--set", help="Override an environment.yaml setting: KEY=VALUE (KEY=null removes it)"
    ),
]
QueueOption = Annotated[
    list[str] | None,
    typer.Option(
        "--task-queue", help="Poll only this queue (repeatable; default: every declared queue)."
    ),
]
ListenOption = Annotated[
    str | None,
    typer.Option(
        "--listen",
        envvar="SALAM_WORKER_LISTEN",
        help="Serve /healthz, /readyz and /metrics on HOST:PORT (e.g. 0.0.0.0:9464; "
        "default: no endpoint).",
    ),
]
RootOption = Annotated[
    Path | None, typer.Option("--root", help="Project root holding environments/.")
]


def command(
    env: EnvOption,
    set_: SetOption = None,
    task_queue: QueueOption = None,
    listen: ListenOption = None,
    root: RootOption = None,
) -> None:
    """Run the Temporal worker of an environment: IngestionWorkflow on every task queue it
    declares (temporal.task_queues)."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # temporalio loads only for this command
    from ingestion.shared import temporal
    from ingestion.worker import observe, service

    code = ExitCode.OK
    try:
        environment = loader.load_environment(
            (root or loader.find_root(Path.cwd())).resolve(), env, set_ or []
        )
        queues = task_queue or service.task_queues(environment)
        if not queues:
            typer.echo(
                f"Error: environment '{env}' declares no Temporal task queue\n"
                "  hint: set temporal.task_queues in environment.yaml, or pass --task-queue",
                err=True,
            )
            code = ExitCode.INVALID
        else:
            observer = observe.Observer(listen, queues) if listen else None
            asyncio.run(service.serve(environment, queues, observer=observer))
    except observe.ListenError as exc:
        typer.echo(f"Error: {exc}", err=True)
        code = ExitCode.ERROR
    except ConfigError as exc:
        for diagnostic in exc.diagnostics:
            typer.echo(diagnostic.render(), err=True)
        code = ExitCode.INVALID
    except temporal.ConnectError as exc:
        typer.echo(f"Error: {exc}", err=True)
        code = ExitCode.ERROR
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(int(code))
