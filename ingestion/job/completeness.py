"""No silent loss: reconcile the source's row counts below an incremental window with the lake's.

A cursor design reads ``[lo, hi)`` on every run. Three kinds of row never enter such a window:

* rows that arrive later than the lookback (their cursor is already below ``lo``);
* rows whose cursor is NULL after the first load (no window condition matches NULL);
* rows updated without moving the cursor (the lake keeps the old version).

Before a run commits, this module counts, per kind, the source's distinct primary keys
(``WHERE cursor < lo`` and ``WHERE cursor IS NULL`` — both answerable from an index on the
cursor) and the lake's distinct keys for the same condition, and reports the difference. A
threshold (``load.completeness.max_missing_rows``) turns a difference into a failed run.

What counts cannot see: updates that do not move the cursor (the key is there, only its values
are stale) and deletes (the lake keeps the key; a delete can even hide a missing row). Those
are closed by ``deletes: detect`` (key comparison) and by periodic ``replace`` runs
(``--full-refresh``), which re-read everything.

Source counts run as one ``SELECT COUNT(*)`` subquery per kind (on the driver for a PostgreSQL
source, else over Spark JDBC: :func:`ingestion.job.extract.query`): only a count reaches the
driver. Lake counts run in Spark over the table as this run's commit will leave it
(the lake files the commit keeps plus the run's staged files,
:func:`ingestion.job.writes.rows_after`): the live version of each key
(:func:`ingestion.job.deletes.live`: the latest, not a tombstone) is counted when its cursor is
below ``lo`` or NULL. Only the two counts reach the driver, so memory stays bounded whatever the
table's size; the cost is one read of the key and cursor columns of the table, which
``every_runs`` spaces out.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from ingestion.job import deletes, extract
from ingestion.job.errors import JobError
from ingestion.job.source import Source, TableSpec

STAGE = "completeness"
BELOW_WINDOW = "below_window"
NULL_CURSOR = "null_cursor"
KINDS = (BELOW_WINDOW, NULL_CURSOR)


@dataclass(frozen=True)
class Settings:
    """``load.completeness``: check every N committed runs; fail above ``max_missing_rows``."""

    every_runs: int = 1
    max_missing_rows: int | None = None


def settings(load: Mapping[str, Any]) -> Settings:
    raw = load.get("completeness") or {}
    return Settings(int(raw.get("every_runs", 1)), raw.get("max_missing_rows"))


@dataclass(frozen=True)
class Check:
    """What is checked: the table's spec and the window's low bound (as a datetime, and as the
    literal the lake's cursor column compares with)."""

    spec: TableSpec
    lo: datetime
    lake_lo: Any


def check(
    spark: Any,
    src: Source,
    what: Check,
    after: Callable[[], DataFrame | None],
    committed_runs: int,
    config: Settings,
) -> dict[str, Any] | None:
    """The completeness result of one table (None when the check does not apply); ``after``
    gives the table's rows as the commit will leave them (None: no rows)."""
    if what.spec.cursor is None:
        return None
    if committed_runs % config.every_runs:
        reason = f"runs every {config.every_runs} committed runs ({committed_runs} so far)"
        return {"status": "skipped", "reason": reason}
    in_lake = lake_counts(after(), what)
    counts = {
        kind: _compare(source_count(spark, src, what.spec, kind, what.lo), in_lake[kind])
        for kind in KINDS
    }
    missing = sum(c["missing"] for c in counts.values())
    return {
        "status": "checked",
        **counts,
        "missing_rows": missing,
        "max_missing_rows": config.max_missing_rows,
        "checked_at": _now(),
    }


def enforce(result: dict[str, Any] | None, identifier: str, config: Settings) -> None:
    """Fail the run (terminal) when more rows are missing than ``max_missing_rows`` allows."""
    limit = config.max_missing_rows
    if not result or result.get("status") != "checked" or limit is None:
        return
    if result["missing_rows"] <= limit:
        return
    parts = [
        f"{kind.replace('_', ' ')}: source {result[kind]['source']}, lake {result[kind]['lake']}"
        for kind in KINDS
    ]
    raise JobError(
        STAGE,
        f"{identifier} is missing {result['missing_rows']} rows ({'; '.join(parts)}); "
        f"load.completeness.max_missing_rows is {limit}",
        "backfill the rows (--from/--to, or --full-refresh), or raise "
        "load.completeness.max_missing_rows",
    )


def _compare(source: int, lake_rows: int) -> dict[str, int]:
    return {"source": source, "lake": lake_rows, "missing": max(0, source - lake_rows)}


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def count_sql(spec: TableSpec, src: Source, kind: str, lo: datetime) -> str:
    """One count over the cursor's index range: distinct primary keys of ``kind``'s rows."""
    assert spec.cursor is not None
    cursor = src.dialect.quote(spec.cursor)
    condition = (
        f"{cursor} IS NULL" if kind == NULL_CURSOR else f"{cursor} < {src.dialect.literal(lo)}"
    )
    keys = ", ".join(src.dialect.quote(k) for k in spec.primary_key)
    inner = f"SELECT DISTINCT {keys} FROM {spec.relation} WHERE {condition}"
    return f"SELECT COUNT(*) AS n FROM ({inner}) salam_k"


def source_count(spark: Any, src: Source, spec: TableSpec, kind: str, lo: datetime) -> int:
    """Run :func:`count_sql` on the source (:func:`ingestion.job.extract.query`); only the
    count reaches the driver."""
    return int(extract.query(spark, src, count_sql(spec, src, kind, lo), "n LONG")[0][0])


def lake_counts(rows: DataFrame | None, what: Check) -> dict[str, int]:
    """Live keys of ``rows`` (one count per kind, in Spark) whose cursor is below ``lo`` / NULL."""
    if rows is None:
        return dict.fromkeys(KINDS, 0)
    cursor = what.spec.cursor
    assert cursor is not None
    live = deletes.live(rows, what.spec)
    value = F.col(cursor)
    bound = F.lit(what.lake_lo).cast(rows.schema[cursor].dataType)
    found = live.agg(
        F.count(F.when(value < bound, 1)).alias(BELOW_WINDOW),
        F.count(F.when(value.isNull(), 1)).alias(NULL_CURSOR),
    ).collect()[0]
    return {kind: int(found[kind]) for kind in KINDS}


MISSING = "salam_ingestion_missing_rows"
CHECKED = "salam_ingestion_completeness_check_timestamp_seconds"


def metrics_text(environment: str, job: str, results: Mapping[str, dict[str, Any] | None]) -> str:
    """Node-exporter textfile lines for the checked tables of a run (``results`` by table)."""
    checked = {t: r for t, r in results.items() if r and r.get("status") == "checked"}
    lines = [
        f"# HELP {MISSING} Source rows the lake lacks, by kind (below the window, NULL cursor).",
        f"# TYPE {MISSING} gauge",
    ]
    for table, result in checked.items():
        for kind in KINDS:
            labels = _labels(environment=environment, job=job, table=table, kind=kind)
            lines.append(f"{MISSING}{{{labels}}} {result[kind]['missing']}")
    lines += [
        f"# HELP {CHECKED} When the completeness of the table was last checked.",
        f"# TYPE {CHECKED} gauge",
    ]
    for table, result in checked.items():
        labels = _labels(environment=environment, job=job, table=table)
        lines.append(f"{CHECKED}{{{labels}}} {_epoch(result['checked_at'])}")
    return "\n".join(lines) + "\n"


def write_metrics(path: Path, text: str) -> None:
    """Write ``text`` atomically (temp file in the same directory, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temp.write_text(text)
    os.replace(temp, path)


def _labels(**labels: str) -> str:
    def escape(value: str) -> str:
        return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')

    return ",".join(f'{k}="{escape(v)}"' for k, v in labels.items())


def _epoch(text: str) -> float:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC).timestamp()
