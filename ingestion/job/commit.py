"""Load and commit: Spark writes a run's Parquet files, the driver commits them in one snapshot.

The snapshot's summary carries ``salam.run_id`` and ``salam.watermark``; the same transaction
sets the table properties ``salam.watermark`` and ``salam.last_run_id`` and evolves the schema.
One catalog commit makes data, schema and watermark visible together, or none of them.

Every commit is a snapshot (an empty one when the window brought nothing), so the snapshot id
pins the watermark too. A commit adds the run's files (append), also removes the lake files a
merge rewrote (one overwrite snapshot), or removes every row first (replace). It is conditional
on the snapshot the run started from: when another writer committed in between, the catalog
refuses it, the run's files are removed and the run fails as transient (exit 75) — its retry
reads the new state. pyiceberg's own rebase-and-retry is off for Salam's tables.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.parquet as pq
from pyiceberg.exceptions import CommitFailedException
from pyiceberg.expressions import AlwaysTrue
from pyiceberg.manifest import DataFile
from pyiceberg.table import Table, Transaction
from pyspark.sql import DataFrame

from ingestion.job import crash, lake
from ingestion.job.errors import JobError, RunExit

STAGE = "commit"


@dataclass(frozen=True)
class Committed:
    snapshot_id: int | None
    rows: int
    bytes: int
    files: int


@dataclass(frozen=True)
class Change:
    """What one run commits to one table, and the table state it was computed from."""

    start: int | None  # the snapshot id the run read; None for a table without a snapshot
    files: list[str]
    schema: pa.Schema
    evolve: bool = False
    replace: bool = False
    removed: Sequence[DataFile] = ()  # lake files a merge rewrote
    directories: Sequence[str] = field(default_factory=tuple)  # the run's own files


def write(df: DataFrame, uri: str) -> list[str]:
    """Write ``df`` as Parquet under ``uri`` (replacing a previous uncommitted attempt).

    Returns the non-empty data files; empty files Spark writes for empty windows are removed.
    """
    df.write.mode("overwrite").option("compression", "zstd").parquet(uri)
    files = []
    for file in lake.data_files(uri):
        fs, path = lake.filesystem(file)
        with fs.open_input_file(path) as handle:
            rows = pq.ParquetFile(handle).metadata.num_rows
        if rows:
            files.append(file)
        else:
            fs.delete_file(path)
    return files


def commit(table: Table, change: Change, properties: Mapping[str, str]) -> Committed:
    """Commit ``change`` (and the schema change, and the watermark) in one transaction."""
    props = dict(properties)
    try:
        with table.transaction() as tx:
            _stage(tx, change, props)
    except CommitFailedException as exc:
        _remove(change)
        raise conflict(table, exc) from None
    except OverflowError as exc:  # pyiceberg reads each file's bounds as Python datetimes
        _remove(change)
        raise out_of_range(table, exc) from None
    crash.point("after_commit")
    table.refresh()
    return _committed(table, change.start, bool(change.files or change.removed))


def _stage(tx: Transaction, change: Change, props: dict[str, str]) -> None:
    lake.conditional(tx, change.start)
    if change.evolve:
        with tx.update_schema() as update:
            update.union_by_name(change.schema)
    cleared = change.replace and change.start is not None
    if cleared:
        tx.delete(AlwaysTrue(), snapshot_properties=props)
    if change.removed:
        lake.swap_files(tx, change.removed, change.files, props)
    elif change.files:
        tx.add_files(change.files, snapshot_properties=props, check_duplicate_files=False)
    elif not cleared:  # nothing new: an empty snapshot still moves the watermark, conditionally
        with tx.update_snapshot(snapshot_properties=props).fast_append():
            pass
    state = {lake.LAST_RUN_ID: props[lake.RUN_ID]}
    for key in (lake.WATERMARK, lake.DELETES_CHECKED):
        if props.get(key):
            state[key] = props[key]
    tx.set_properties(state)


def _remove(change: Change) -> None:
    for directory in change.directories:
        lake.clear_dir(directory)


def out_of_range(table: Table, exc: Exception) -> JobError:
    return JobError(
        STAGE,
        f"a date or timestamp for {'.'.join(table.name())} lies outside 0001-01-01 .. "
        f"9999-12-31 23:59:59.999999 UTC, which pyiceberg cannot record ({exc}); "
        "nothing was committed",
        "clamp the value in the source, or read the table through a query that does "
        "(e.g. LEAST(col, '9999-12-31 23:59:59.999999+00'))",
    )


def conflict(table: Table, exc: Exception) -> JobError:
    return JobError(
        STAGE,
        f"{'.'.join(table.name())} changed since this run read it (another writer committed); "
        "this run's commit was refused and its files removed",
        f"retry: the next attempt starts from the new state ({exc})",
        RunExit.TRANSIENT,
    )


def _committed(table: Table, before: int | None, added: bool) -> Committed:
    snapshot = table.current_snapshot()
    if snapshot is None or not added or snapshot.snapshot_id == before:
        return Committed(snapshot.snapshot_id if snapshot else None, 0, 0, 0)
    summary = snapshot.summary.additional_properties if snapshot.summary else {}
    return Committed(
        snapshot.snapshot_id,
        int(summary.get("added-records", 0)),
        int(summary.get("added-files-size", 0)),
        int(summary.get("added-data-files", 0)),
    )
