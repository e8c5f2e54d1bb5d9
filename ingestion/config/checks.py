"""Cross-field checks the schema cannot express, run on a merged, schema-valid job config.

Cron expressions and IANA time zones (:mod:`ingestion.cron.dialect`), the mode's required block and
the environment section its backend needs, Temporal namespace / task queue consistent with the
environment, table definitions that Spark JDBC can actually read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from ingestion.config.diagnostics import Diagnostic, Location, json_path
from ingestion.config.modes import Mode
from ingestion.config.yamlsource import PathKey
from ingestion.cron import dialect

Locate = Callable[[PathKey], Location]
Problem = tuple[PathKey, str, str, str]  # path, code, summary, hint


def check_job(
    job: Mapping[str, Any], environment: Mapping[str, Any], locate: Locate
) -> list[Diagnostic]:
    """Every cross-field problem of one merged job config."""
    findings = [*_orchestration(job, environment), *_tables(job)]
    return [
        Diagnostic(code, summary, locate(path), json_path(path), hint)
        for path, code, summary, hint in findings
    ]


def check_environment(
    environment: Mapping[str, Any], directory: str, locate: Locate
) -> list[Diagnostic]:
    """Problems of ``environment.yaml`` itself beyond its schema."""
    findings: list[Problem] = []
    if environment.get("environment") != directory:
        findings.append(
            (
                ("environment",),
                "name-mismatch",
                f"environment is named '{environment.get('environment')}' "
                f"but lives in '{directory}/'",
                f"set `environment: {directory}`",
            )
        )
    temporal = environment.get("temporal", {})
    default_queue = temporal.get("default_task_queue")
    if default_queue and default_queue not in temporal.get("task_queues", []):
        findings.append(
            (
                ("temporal", "default_task_queue"),
                "unknown-task-queue",
                f"default task queue '{default_queue}' is not in task_queues",
                "add it to task_queues",
            )
        )
    host_zone = environment.get("crontab", {}).get("host_timezone")
    if host_zone and (problem := dialect.timezone_problem(host_zone)):
        findings.append((("crontab", "host_timezone"), "invalid-timezone", *problem))
    return [
        Diagnostic(code, summary, locate(path), json_path(path), hint)
        for path, code, summary, hint in findings
    ]


def _orchestration(job: Mapping[str, Any], environment: Mapping[str, Any]) -> Iterator[Problem]:
    base: PathKey = ("runtime", "orchestration")
    orchestration = job["runtime"]["orchestration"]
    mode = Mode.of(orchestration["mode"])
    block_name = mode.block
    if block_name not in orchestration:
        yield (
            base,
            "missing-block",
            f"mode '{mode}' needs a '{block_name}' block",
            f"add runtime.orchestration.{block_name}",
        )
        return
    section = mode.section
    if section not in environment:
        yield (
            (*base, "mode"),
            "missing-environment-section",
            f"mode '{mode}' needs a '{section}' section in environment.yaml",
            f"add `{section}:` to environment.yaml",
        )
    for other in sorted(Mode.blocks() - {block_name}):
        if other in orchestration:
            yield (
                (*base, other),
                "unused-block",
                f"block '{other}' is not used by mode '{mode}'",
                "remove it or change mode",
            )
    block = orchestration[block_name]
    yield from _schedule(mode, (*base, block_name), block)
    if mode is Mode.PLAIN_CRON:
        yield from _host_zone(job, block, environment.get("crontab", {}), (*base, "cron"))
    if mode is Mode.TEMPORAL:
        yield from _temporal(block, environment.get("temporal", {}), (*base, "temporal"))
    if mode in (Mode.AIRFLOW, Mode.INFORMATICA) and block.get("provider", mode.value) != mode.value:
        yield (
            (*base, "external", "provider"),
            "provider-mismatch",
            f"provider '{block['provider']}' contradicts mode '{mode}'",
            f"set provider: {mode}",
        )


def _schedule(mode: Mode, path: PathKey, block: Mapping[str, Any]) -> Iterator[Problem]:
    if mode.has_schedule_block:
        path, block = (*path, "schedule"), block["schedule"]
        cron_key = "cron"
    else:
        cron_key = "expression"
    expression = block[cron_key]
    if problem := dialect.cron_problem(expression):
        yield ((*path, cron_key), "invalid-cron", *problem)
    elif mode is Mode.TEMPORAL and dialect.restricts_day_of_month_and_week(expression):
        yield (
            (*path, cron_key),
            "ambiguous-cron",
            "cron restricts both day-of-month and day-of-week: cron ORs them, Temporal ANDs them",
            "split it into two jobs, or leave one of the two fields as *",
        )
    zone = block.get("timezone")
    if zone and (problem := dialect.timezone_problem(zone)):
        yield ((*path, "timezone"), "invalid-timezone", *problem)


def _host_zone(
    job: Mapping[str, Any], block: Mapping[str, Any], crontab: Mapping[str, Any], path: PathKey
) -> Iterator[Problem]:
    zone, host = block.get("timezone", "UTC"), crontab.get("host_timezone", "UTC")
    if (
        crontab.get("supports_cron_tz")
        or dialect.cron_problem(block["expression"])
        or dialect.timezone_problem(zone)
    ):
        return
    try:
        dialect.translate(block["expression"], zone, host)
    except dialect.ZoneError as exc:
        yield (
            (*path, "timezone"),
            "timezone-not-supported",
            f"job '{job['name']}': {exc}",
            "use a fixed-offset zone or the host's zone, "
            "or a cron target declared supports_cron_tz",
        )


def _temporal(
    block: Mapping[str, Any], cluster: Mapping[str, Any], path: PathKey
) -> Iterator[Problem]:
    namespace = block.get("namespace")
    if namespace and cluster and namespace != cluster.get("namespace"):
        yield (
            (*path, "namespace"),
            "namespace-mismatch",
            f"namespace '{namespace}' is not this environment's ('{cluster.get('namespace')}')",
            f"use {cluster.get('namespace')} or leave namespace out",
        )
    queue = block.get("task_queue")
    queues = cluster.get("task_queues", [])
    if queue and cluster and queue not in queues:
        yield (
            (*path, "task_queue"),
            "unknown-task-queue",
            f"task queue '{queue}' is not one of this environment's ({', '.join(queues)})",
            "use one of those or add it to environment.yaml",
        )
    if not queue and cluster and not cluster.get("default_task_queue"):
        yield (
            path,
            "missing-task-queue",
            "no task_queue here and no default_task_queue in environment.yaml",
            "set task_queue",
        )


def _tables(job: Mapping[str, Any]) -> Iterator[Problem]:
    load = job.get("load", {})
    incremental = load.get("mode", "incremental") == "incremental"
    for index, table in enumerate(job["source"].get("tables", [])):
        path: PathKey = ("source", "tables", index)
        if ("name" in table) == ("query" in table):
            yield (
                path,
                "table-or-query",
                "a table needs exactly one of 'name' or 'query'",
                "keep one of them",
            )
        if "query" in table and "alias" not in table and "target" not in table:
            yield (
                path,
                "missing-alias",
                "a query needs an 'alias' (its lake table name)",
                "add alias: <name>",
            )
        if "query" in table and "partition_column" in table:
            yield (
                (*path, "partition_column"),
                "query-partitioned",
                "Spark cannot combine 'query' with 'partition_column'",
                "write the query as a subquery in 'name', or use 'predicates'",
            )
        if "partition_column" in table and "predicates" in table:
            yield (
                (*path, "predicates"),
                "conflicting-partitioning",
                "use either 'partition_column' or 'predicates', not both",
                "remove one",
            )
        if incremental and not (table.get("cursor_column") or load.get("cursor_column")):
            yield (
                path,
                "missing-cursor",
                "an incremental load needs a cursor_column",
                "set load.cursor_column, or load.mode: full",
            )
    for key, hint in (
        ("jdbc_url", "add the JDBC URL (no credentials in it)"),
        ("tables", "list the tables to ingest"),
    ):
        if key not in job["source"]:
            yield (("source",), "missing-key", f"missing required key '{key}'", hint)
