"""Cross-field checks the schema cannot express, run on a merged job config (the loader calls
:func:`check_job` per job and :func:`check_environment` for ``environment.yaml``).

Cron expressions and IANA time zones (:mod:`ingestion.cron.dialect`), the mode's required block and
the environment section its backend needs, Temporal namespace / task queue consistent with the
environment, table definitions that Spark JDBC can actually read. They run even when the schema
found errors in the same file, so one run reports everything: each check reads only values that
are there and of the right type, and leaves the rest to the schema's own diagnostics. A value is
quoted only as :func:`ingestion.config.secrets.shown` allows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from ingestion.config import merge, secrets
from ingestion.config.diagnostics import Diagnostic, Location, Severity, json_path
from ingestion.config.modes import Mode
from ingestion.config.yamlsource import PathKey
from ingestion.cron import dialect

Locate = Callable[[PathKey], Location]
Problem = tuple[PathKey, str, str, str]  # path, code, summary, hint
CLOCK_CHANGE = "clock-change"  # a warning: runs where the zone's clocks change


def check_job(
    job: Mapping[str, Any], environment: Mapping[str, Any], locate: Locate
) -> list[Diagnostic]:
    """Every cross-field problem of one merged job config, schema-valid or not: each check
    reads only values of the right type and skips what the schema already reports."""
    findings = [*_orchestration(job, environment), *_tables(job)]
    return [_diagnostic(problem, job, locate) for problem in findings]


def check_environment(
    environment: Mapping[str, Any], directory: str, locate: Locate
) -> list[Diagnostic]:
    """Problems of ``environment.yaml`` itself beyond its schema (run even when the schema
    reports some: each check reads only values of the right type)."""
    findings: list[Problem] = []
    if environment.get("environment") != directory:
        named = _quoted(environment.get("environment"))
        findings.append(
            (
                ("environment",),
                "name-mismatch",
                f"environment is named {named} but lives in '{directory}/'",
                f"set `environment: {directory}`",
            )
        )
    temporal = _mapping(environment, "temporal")
    default_queue = temporal.get("default_task_queue")
    if isinstance(default_queue, str) and default_queue not in _strings(temporal, "task_queues"):
        findings.append(
            (
                ("temporal", "default_task_queue"),
                "unknown-task-queue",
                f"default task queue {_quoted(default_queue)} is not in task_queues",
                "add it to task_queues",
            )
        )
    host_zone = _mapping(environment, "crontab").get("host_timezone")
    if (
        isinstance(host_zone, str)
        and host_zone
        and (problem := dialect.timezone_problem(host_zone))
    ):
        findings.append((("crontab", "host_timezone"), "invalid-timezone", *problem))
    findings += _sync_windows(environment)
    return [_diagnostic(problem, environment, locate) for problem in findings]


def _sync_windows(environment: Mapping[str, Any]) -> Iterator[Problem]:
    """The controller's change windows: a valid 5-field cron expression and an IANA zone each."""
    windows = _mapping(environment, "sync").get("windows")
    for index, window in enumerate(windows if isinstance(windows, list) else []):
        if not isinstance(window, Mapping):
            continue
        path: PathKey = ("sync", "windows", index)
        schedule, zone = window.get("schedule"), window.get("timezone")
        if isinstance(schedule, str) and (problem := dialect.cron_problem(schedule)):
            yield ((*path, "schedule"), "invalid-cron", *problem)
        if isinstance(zone, str) and (problem := dialect.timezone_problem(zone)):
            yield ((*path, "timezone"), "invalid-timezone", *problem)


def _diagnostic(problem: Problem, data: Mapping[str, Any], locate: Locate) -> Diagnostic:
    """The problem as a diagnostic, its value cut out of the wording when it must not be quoted
    (:func:`secrets.shown`): a finding names where the value is, never a secret."""
    path, code, summary, hint = problem
    value = _value_at(data, path)
    if isinstance(value, str) and value.strip() and not secrets.shown(value, path):
        for text in (f"'{value.strip()}'", f"'{value}'", value, value.strip()):
            summary, hint = (part.replace(text, "(value not shown)") for part in (summary, hint))
    severity = Severity.WARNING if code == CLOCK_CHANGE else Severity.ERROR
    return Diagnostic(code, summary, locate(path), json_path(path), hint, severity)


def _quoted(value: object) -> str:
    """A config value as a message quotes it, as :func:`secrets.shown` allows."""
    return secrets.shown(value) or "(value not shown)"


def _plain(value: str) -> str:
    """A config string as a message shows it unquoted, as :func:`secrets.shown` allows."""
    return value if secrets.shown(value) else "(value not shown)"


def _value_at(data: Any, path: PathKey) -> Any:
    for part in path:
        if not merge.has_path(data, (part,)):
            return None
        data = data[part]
    return data


def _mapping(data: Any, *keys: str) -> Mapping[str, Any]:
    """The mapping at ``keys`` below ``data``; empty when it is missing or not a mapping."""
    for key in keys:
        data = data.get(key) if isinstance(data, Mapping) else None
    return data if isinstance(data, Mapping) else {}


def _strings(data: Mapping[str, Any], key: str) -> list[str]:
    """The list of strings at ``key``; the strings only, and empty when it is not a list."""
    value = data.get(key)
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _orchestration(job: Mapping[str, Any], environment: Mapping[str, Any]) -> Iterator[Problem]:
    base: PathKey = ("runtime", "orchestration")
    orchestration = _mapping(job, "runtime", "orchestration")
    mode = next((m for m in Mode if m.value == orchestration.get("mode")), None)
    if mode is None:  # no mode, or one the schema already refuses
        return
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
    if isinstance(block, Mapping):
        yield from _block(job, mode, block, environment)


def _block(
    job: Mapping[str, Any], mode: Mode, block: Mapping[str, Any], environment: Mapping[str, Any]
) -> Iterator[Problem]:
    base: PathKey = ("runtime", "orchestration", mode.block)
    crontab = _mapping(environment, "crontab")
    if _schedule_readable(mode, block):
        yield from _schedule(mode, base, block)
        if mode is Mode.PLAIN_CRON and _host_zone_readable(crontab):
            yield from _host_zone(job, block, crontab, base)
    if mode is Mode.TEMPORAL:
        yield from _temporal(block, _mapping(environment, "temporal"), base)
    provider = block.get("provider", mode.value)
    if mode in (Mode.AIRFLOW, Mode.INFORMATICA) and provider != mode.value:
        yield (
            (*base, "provider"),
            "provider-mismatch",
            f"provider {_quoted(provider)} contradicts mode '{mode}'",
            f"set provider: {mode}",
        )


def _schedule_readable(mode: Mode, block: Mapping[str, Any]) -> bool:
    """True when the values :func:`_schedule` and :func:`_host_zone` read are there and are
    strings; otherwise the schema has already reported them."""
    holder = block.get("schedule") if mode.has_schedule_block else block
    cron_key = "cron" if mode.has_schedule_block else "expression"
    return (
        isinstance(holder, Mapping)
        and isinstance(holder.get(cron_key), str)
        and isinstance(holder.get("timezone", ""), str)
    )


def _host_zone_readable(crontab: Mapping[str, Any]) -> bool:
    """True when the host's zone is a known one (else environment.yaml's check reports it)."""
    host = crontab.get("host_timezone", "UTC")
    return isinstance(host, str) and not dialect.timezone_problem(host)


def _schedule(mode: Mode, path: PathKey, block: Mapping[str, Any]) -> Iterator[Problem]:
    """The expression and zone: valid 5-field cron, runnable by the mode's backend as cron
    means it (:class:`dialect.Dialect`), an IANA zone, and a warning for runs the backend
    treats its own way where the zone's clocks change."""
    if mode.has_schedule_block:
        path, block = (*path, "schedule"), block["schedule"]
        cron_key = "cron"
    else:
        cron_key = "expression"
    expression = block[cron_key]
    runnable = _runnable(mode, expression)
    for code, summary, hint in runnable:
        yield ((*path, cron_key), code, summary, hint)
    zone = block.get("timezone")
    if zone and (problem := dialect.timezone_problem(zone)):
        yield ((*path, "timezone"), "invalid-timezone", *problem)
    elif zone and not runnable:
        today = datetime.now(UTC).date()
        found = dialect.clock_change_problem(expression, zone, mode.backend, today)
        if found:
            yield ((*path, "timezone"), CLOCK_CHANGE, *found)


def _runnable(mode: Mode, expression: str) -> list[tuple[str, str, str]]:
    """Why the mode's backend cannot run ``expression`` as (code, summary, hint): [] if it can."""
    if problem := dialect.cron_problem(expression):
        return [("invalid-cron", *problem)]
    return [("unsupported-cron", *p) for p in dialect.backend_problems(expression, mode.backend)]


def _host_zone(
    job: Mapping[str, Any], block: Mapping[str, Any], crontab: Mapping[str, Any], path: PathKey
) -> Iterator[Problem]:
    zone, host = block.get("timezone", "UTC"), crontab.get("host_timezone", "UTC")
    if (
        crontab.get("supports_cron_tz")
        or _runnable(Mode.PLAIN_CRON, block["expression"])
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
    namespace, own = block.get("namespace"), cluster.get("namespace")
    if isinstance(namespace, str) and namespace and isinstance(own, str) and namespace != own:
        yield (
            (*path, "namespace"),
            "namespace-mismatch",
            f"namespace {_quoted(namespace)} is not this environment's ({_quoted(own)})",
            f"use {_plain(own)} or leave namespace out",
        )
    queue = block.get("task_queue")
    queues = _strings(cluster, "task_queues")
    if isinstance(queue, str) and queue and cluster and queue not in queues:
        yield (
            (*path, "task_queue"),
            "unknown-task-queue",
            f"task queue {_quoted(queue)} is not one of this environment's "
            f"({', '.join(map(_plain, queues))})",
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
    source = job.get("source")
    if not isinstance(source, Mapping):  # the schema reports a missing or ill-typed source
        return
    # an ill-typed load (the schema says so) leaves open whether it is incremental: no check
    load = job.get("load", {})
    incremental = isinstance(load, Mapping) and load.get("mode", "incremental") == "incremental"
    load = load if isinstance(load, Mapping) else {}
    tables = source.get("tables", [])
    for index, table in enumerate(tables if isinstance(tables, list) else []):
        if isinstance(table, Mapping):
            yield from _table(("source", "tables", index), table, load, incremental)
    for key, hint in (
        ("jdbc_url", "add the JDBC URL (no credentials in it)"),
        ("tables", "list the tables to ingest"),
    ):
        if key not in source:
            yield (("source",), "missing-key", f"missing required key '{key}'", hint)


def _table(
    path: PathKey, table: Mapping[str, Any], load: Mapping[str, Any], incremental: bool
) -> Iterator[Problem]:
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
