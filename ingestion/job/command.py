"""``ingest run``: load the job with its environment.yaml (no other job file), run it, print
what it did; exit with the run's exit code."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from ingestion.config import loader
from ingestion.config.diagnostics import ConfigError
from ingestion.job.errors import JobError, RunExit
from ingestion.job.runner import RunOptions, RunResult, run


def execute(config: Path, overrides: list[str], options: RunOptions, as_json: bool = False) -> int:
    """Run the job at ``config``; print a summary or the error; return the exit code."""
    try:
        environment, job = loader.load_one_job(config, overrides)
    except ConfigError as exc:
        for diagnostic in exc.diagnostics:
            sys.stderr.write(diagnostic.render() + "\n")
        if as_json:
            diagnostics = [d.to_json() for d in exc.diagnostics]
            _print_json(_failed(RunExit.INVALID, {"diagnostics": diagnostics}))
        return int(RunExit.INVALID)
    try:
        result = run(environment, job, options)
    except JobError as exc:
        sys.stderr.write(exc.render() + "\n")
        if as_json:
            where = {"job": job.name, "environment": environment.name}
            _print_json(_failed(exc.code, where | {"error": exc.describe()}))
        return int(exc.code)
    if options.metrics_file and not options.dry_run:
        _write_metrics(Path(options.metrics_file), result)
    for warning in result.warnings:
        sys.stderr.write(f"warning: {warning}\n")
    if as_json:
        _print_json(summary(result, options))
    else:
        sys.stdout.write(render(result, options))
    return int(RunExit.OK)


def _print_json(document: dict[str, Any]) -> None:
    """The one JSON document of ``--json`` on stdout (events and traces are on stderr)."""
    sys.stdout.write(json.dumps(document, indent=2) + "\n")


def _failed(code: RunExit, details: dict[str, Any]) -> dict[str, Any]:
    return {"ok": False, "exit_code": int(code), **details}


def summary(result: RunResult, options: RunOptions) -> dict[str, Any]:
    return {
        "ok": True,
        "exit_code": int(RunExit.OK),
        "run_id": result.run_id,
        "lineage_run_id": result.lineage_run_id,
        "job": result.job,
        "environment": result.environment,
        "dry_run": options.dry_run,
        "duration_s": round(result.duration_s, 3),
        "engine": result.engine,
        "tables": [t.describe() | {"read": t.read} for t in result.tables],
    }


def render(result: RunResult, options: RunOptions) -> str:
    """A human summary: one block per table (rows, watermark, snapshot id, or the planned SQL)."""
    head = "dry run" if options.dry_run else "run"
    lines = [
        f"{head} {result.run_id}: {result.environment}/{result.job} ({result.duration_s:.1f}s)",
        f"  engine {result.engine}",
    ]
    for table in result.tables:
        win = table.window.describe() if table.window else {}
        lines.append(f"  {table.source} -> {table.target}: {table.status}")
        lines.append(
            f"    window {win.get('kind')} [{win.get('lo') or '-'}, {win.get('hi') or '-'}) "
            f"watermark {win.get('watermark_before') or '-'} -> {win.get('watermark_after') or '-'}"
        )
        found = table.read.get("lookback")
        if options.dry_run:
            lines.append(f"    sql: {table.read.get('sql')}")
            parts = {k: v for k, v in table.read.items() if k not in ("sql", "lookback")}
            lines.append(f"    partitions: {json.dumps(parts)}")
            if found:
                lines.append(f"    lookback keys sql: {found['sql']}")
        else:
            lines.append(
                f"    rows read {_n(table.rows_read)}, written {table.rows_written}, "
                f"files {table.files}, bytes {table.bytes}, snapshot {table.snapshot_id}"
            )
            if found and "keys" in found:
                lines.append(
                    f"    lookback: {found['keys']} keys compared with the lake "
                    f"{found['compared']}, {found['missing']} missing (read {found['read']})"
                )
            if table.completeness:
                lines.append(f"    completeness: {_completeness(table.completeness)}")
    return "\n".join(lines) + "\n"


def _write_metrics(path: Path, result: RunResult) -> None:
    from ingestion.job import completeness

    by_table = {t.target: t.completeness for t in result.tables}
    text = completeness.metrics_text(result.environment, result.job, by_table)
    completeness.write_metrics(path, text)


def _completeness(found: dict[str, Any]) -> str:
    if found.get("status") != "checked":
        return f"{found.get('status')} ({found.get('reason')})"
    below, null = found["below_window"], found["null_cursor"]
    return (
        f"missing {found['missing_rows']} (below window: source {below['source']}, "
        f"lake {below['lake']}; NULL cursor: source {null['source']}, lake {null['lake']})"
    )


def _n(value: int | None) -> str:
    return "?" if value is None else str(value)
