"""Load and commit: Spark writes a run's Parquet files, the driver commits them in one snapshot.

The snapshot's summary carries ``salam.run_id`` and ``salam.watermark``; the same transaction
sets the table properties ``salam.watermark`` and ``salam.last_run_id`` and evolves the schema.
One catalog commit makes data, schema and watermark visible together, or none of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.parquet as pq
from pyiceberg.expressions import AlwaysTrue
from pyiceberg.table import Table
from pyspark.sql import DataFrame

from ingestion.job import crash, lake


@dataclass(frozen=True)
class Committed:
    snapshot_id: int | None
    rows: int
    bytes: int
    files: int


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


def commit(
    table: Table,
    files: list[str],
    schema: pa.Schema,
    evolve: bool,
    replace: bool,
    properties: Mapping[str, str],
) -> Committed:
    """Commit ``files`` (and the schema change, and the watermark) in one transaction."""
    props = dict(properties)
    before = table.current_snapshot()
    with table.transaction() as tx:
        if evolve:
            with tx.update_schema() as update:
                update.union_by_name(schema)
        if replace and before is not None:
            tx.delete(AlwaysTrue(), snapshot_properties=props)
        if files:
            tx.add_files(files, snapshot_properties=props, check_duplicate_files=False)
        state = {lake.LAST_RUN_ID: props[lake.RUN_ID]}
        if props.get(lake.WATERMARK):
            state[lake.WATERMARK] = props[lake.WATERMARK]
        tx.set_properties(state)
    crash.point("after_commit")
    table.refresh()
    return _committed(table, before.snapshot_id if before else None, bool(files))


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
