"""The lookback's comparison on the driver, for a small lookback of a PostgreSQL source.

:mod:`ingestion.job.lookback` compares the source's ``(primary key, cursor)`` versions in the
lookback with the lake's in Spark: a few Spark jobs, about a second on a warm engine whatever
the size. When the lake's files for the lookback hold at most :data:`DRIVER_ROWS` rows and
:mod:`ingestion.job.direct` reaches the source, the same comparison runs here instead, in Arrow:
the source's versions read by connectorx (at most ``DRIVER_ROWS + 1`` of them: more hand the
comparison back to Spark), the lake's read from those Parquet files (the key and cursor
columns), the source's cast to the lake's types and anti-joined with them. Memory is bounded by
:data:`DRIVER_ROWS` versions of two columns, whatever the lookback's size.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from ingestion.job import direct, lake
from ingestion.job.source import Source

DRIVER_ROWS = 200_000  # versions compared on the driver at most (two columns: a few MB)


def applies(source: Source, lake_rows: int) -> bool:
    return lake_rows <= DRIVER_ROWS and direct.usable(source)


def missing(
    source: Source, key_sql: str, columns: Sequence[str], files: Sequence[Any]
) -> tuple[int, pa.Table] | None:
    """How many versions the source's lookback holds and those the lake lacks (``columns``:
    key then cursor); None when the source holds more than :data:`DRIVER_ROWS`, or a type
    does not cast onto the lake's."""
    found = direct.table(source, f"{key_sql} LIMIT {DRIVER_ROWS + 1}")
    if found.num_rows > DRIVER_ROWS:
        return None
    known = _lake_versions(files, columns)
    if known is None:
        return found.num_rows, found.select(list(columns))
    try:
        ours = pa.Table.from_arrays(
            [found.column(c).cast(known.schema.field(c).type) for c in columns], names=columns
        )
        return ours.num_rows, ours.join(known, list(columns), join_type="left anti")
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):  # a type Arrow cannot cast or join
        return None


def _lake_versions(files: Sequence[Any], columns: Sequence[str]) -> pa.Table | None:
    tables = []
    for data_file in files:
        fs, path = lake.filesystem(data_file.file_path)
        tables.append(pq.read_table(path, columns=list(columns), filesystem=fs))
    if not tables:
        return None
    return pa.concat_tables(tables, promote_options="permissive").combine_chunks()
