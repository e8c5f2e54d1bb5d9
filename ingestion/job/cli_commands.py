"""The ``ingest run``, ``maintain``, ``engine`` and ``demo-source`` commands (registered in
:mod:`ingestion.cli`)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from ingestion.job.errors import HELP

SetOption = Annotated[
    list[str] | None,
    typer.Option(
        "--set", help="Override an environment.yaml setting: KEY=VALUE (KEY=null removes it)"
    ),
]
RootOption = Annotated[
    Path | None,
    typer.Option("--root", help="Project root holding environments/ (default: found from the cwd)"),
]


def run(
    config: Annotated[
        Path, typer.Option("--config", "-c", help="Job config: environments/<env>/jobs/<job>.yaml")
    ],
    set_: SetOption = None,
    run_id: Annotated[
        str | None,
        typer.Option(
            "--run-id",
            envvar="SALAM_RUN_ID",
            help="Idempotency key: a run id already committed is a no-op (default: $SALAM_RUN_ID,"
            " which the worker sets to its workflow run id, else a new UUIDv7)",
        ),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Print the window, SQL and partitioning; read only bounds, move no state",
        ),
    ] = False,
    full_refresh: Annotated[
        bool, typer.Option("--full-refresh", help="Re-read everything and replace the tables")
    ] = False,
    from_: Annotated[
        str | None, typer.Option("--from", help="Backfill window start (ISO 8601, UTC)")
    ] = None,
    to: Annotated[
        str | None,
        typer.Option("--to", help="Backfill window end, exclusive; the watermark does not move"),
    ] = None,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print the run summary as one JSON document on stdout (event lines of a stdout"
            " sink, and the event trace, go to stderr)",
        ),
    ] = False,
    metrics_file: Annotated[
        Path | None,
        typer.Option(
            "--metrics-file", help="Write completeness metrics (node-exporter textfile) here"
        ),
    ] = None,
) -> None:
    """Run one ingestion job: JDBC extract, Parquet load, one Iceberg snapshot per table."""
    from ingestion.job import command  # imports pyspark: only when a job runs
    from ingestion.job.runner import RunOptions
    from ingestion.shared import lineage

    options = RunOptions(
        run_id=run_id,
        dry_run=dry_run,
        full_refresh=full_refresh,
        backfill_from=from_,
        backfill_to=to,
        metrics_file=str(metrics_file) if metrics_file else None,
        lineage_run_id=os.environ.get(lineage.LINEAGE_RUN_ID_ENV) or None,
        parent=lineage.parent_from_env(os.environ),
        event_stream=sys.stderr if as_json else None,
    )
    raise typer.Exit(command.execute(config, set_ or [], options, as_json))


run.__doc__ = f"{run.__doc__} {HELP}"


def demo_source(
    rows: Annotated[
        int, typer.Option("--rows", help="Usage records to generate (other tables scale with it)")
    ] = 20000,
    path: Annotated[Path, typer.Option("--path", help="SQLite file to write")] = Path(
        ".salam/source/miniboss_bss.db"
    ),
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same database)")] = 7,
) -> None:
    """Generate the embedded miniboss BSS source database (SQLite) the dev jobs read."""
    from ingestion.demo import generate

    counts = generate.generate(path, rows, seed)
    for table, count in counts.items():
        typer.echo(f"{table:22} {count:>10} rows")
    typer.echo(f"wrote {path}")


def maintain(
    env: Annotated[
        str, typer.Option("--env", "-e", help="Environment: a directory under environments/")
    ],
    table: Annotated[
        list[str] | None,
        typer.Option("--table", help="Only this lake table, namespace.table (repeatable)"),
    ] = None,
    retention: Annotated[
        str, typer.Option("--retention", help="Expire the snapshots older than this (e.g. 7d)")
    ] = "7d",
    target_mib: Annotated[
        int,
        typer.Option(
            "--target-mib", min=1, help="Compact files smaller than half this into files this big"
        ),
    ] = 128,
    grace: Annotated[
        str,
        typer.Option(
            "--grace",
            help="Remove only orphan files older than this (e.g. 1d): newer ones may"
            " belong to a run or a commit in progress",
        ),
    ] = "1d",
    root: RootOption = None,
    set_: SetOption = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the report as one JSON document on stdout")
    ] = False,
) -> None:
    """Maintain an environment's lake tables: compact small files, expire old snapshots, remove
    orphan files."""
    from ingestion.job import maintain_command  # imports pyiceberg: only when it runs

    raise typer.Exit(
        maintain_command.execute(
            root, env, set_ or [], table or [], (retention, grace, target_mib), as_json
        )
    )


def engine(
    env: Annotated[
        str, typer.Option("--env", "-e", help="Environment: a directory under environments/")
    ],
    port: Annotated[
        int | None,
        typer.Option(
            "--port",
            min=1,
            max=65535,
            help="gRPC port (default: the port of spark.connect in environment.yaml, else 15002)",
        ),
    ] = None,
    host: Annotated[
        str,
        typer.Option("--host", help="Address to bind (default loopback: only this machine)"),
    ] = "127.0.0.1",
    root: RootOption = None,
    set_: SetOption = None,
) -> None:
    """Run the environment's warm Spark engine (a Spark Connect server) until SIGTERM / SIGINT;
    `ingest run` submits to it when environment.yaml sets spark.connect."""
    from ingestion.config import loader
    from ingestion.config.diagnostics import ConfigError
    from ingestion.exitcodes import ExitCode
    from ingestion.job import engine as warm  # imports pyspark: only when it runs

    try:
        environment = loader.load_environment(
            (root or loader.find_root(Path.cwd())).resolve(), env, set_ or []
        )
    except ConfigError as exc:
        for diagnostic in exc.diagnostics:
            typer.echo(diagnostic.render(), err=True)
        raise typer.Exit(ExitCode.INVALID) from None
    settings = environment.settings
    state_dir = environment.root / str(settings.get("state_dir", ".salam/state"))
    options = warm.EngineOptions(
        env, host, port or warm.default_port(settings), state_dir / "engine" / f"{env}.log"
    )
    try:
        warm.serve(settings, options, typer.echo)
    except (warm.EngineError, OSError) as exc:
        typer.echo(f"Error: {exc}", err=True)
        raise typer.Exit(ExitCode.ERROR) from None
