"""The ``merge`` disposition: fold a run's window into the lake's current state, in Spark.

Called by :mod:`ingestion.job.table_run` for a merge table that already has a snapshot. The
window's rows (read once from the source and materialised) are deduplicated on the primary key;
a row *wins* when the lake has no row for its key or the lake's cursor is older (NULL is older
than any value). The lake files holding a winning key or a deleted key are rewritten
(copy-on-write by file): their other rows are kept, then the winners are added. Only the names
of the affected files reach the driver; keys stay in Spark. The commit removes the affected
files and adds the new ones in one snapshot (:func:`ingestion.job.commit.commit`).
"""

from __future__ import annotations

from dataclasses import dataclass

from pyiceberg.manifest import DataFile
from pyiceberg.table import Table
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.window import Window as SparkWindow

from ingestion.job import lake
from ingestion.job.source import TableSpec

FILE = "_salam_file"
_LAKE_CURSOR = "_salam_lake_cursor"
_PRESENT = "_salam_present"


@dataclass
class Merge:
    rows: DataFrame  # what the run writes: kept rows of the rewritten files, then the winners
    removed: list[DataFile]  # the lake files those rows replace
    merged: int  # winning rows


def read_lake(spark: SparkSession, files: list[DataFile]) -> DataFrame:
    """The current rows of the lake table, each with the file it lives in."""
    paths = [f.file_path for f in files]
    rows = spark.read.option("mergeSchema", "true").parquet(*paths)
    return rows.withColumn(FILE, F.input_file_name())


def plan(
    table: Table,
    spark: SparkSession,
    spec: TableSpec,
    incoming: DataFrame,
    gone: DataFrame | None,
    scratch: str,
) -> Merge:
    """The rows to write and the files they replace; ``gone``: keys deleted in the source.

    The winners are materialised under ``scratch`` (computed once, counted there).
    """
    key = list(spec.primary_key)
    files = lake.current_files(table)
    current = read_lake(spark, files) if files else None
    won = winners(incoming, current, key, spec.cursor)
    won.write.mode("overwrite").option("compression", "zstd").parquet(scratch)
    won = spark.read.parquet(scratch)
    merged = won.count()
    if current is None:
        return Merge(won, [], merged)
    removal = won.select(*key)
    if gone is not None:
        removal = removal.unionByName(gone.select(*key))
    affected = _affected(current, removal, key)
    by_path = {lake.local_path(f.file_path): f for f in files}
    kept = current.filter(F.col(FILE).isin(affected)).join(removal, on=key, how="left_anti")
    rows = kept.drop(FILE).unionByName(won, allowMissingColumns=True)
    return Merge(rows, [by_path[lake.local_path(p)] for p in affected], merged)


def winners(
    incoming: DataFrame, current: DataFrame | None, key: list[str], cursor: str | None
) -> DataFrame:
    """The window's rows that replace the lake's version of their key (or add a new key)."""
    latest = _latest(incoming, key, cursor)
    if cursor is None or current is None:
        return latest
    lake_versions = current.groupBy(*key).agg(
        F.max(cursor).alias(_LAKE_CURSOR), F.count(F.lit(1)).alias(_PRESENT)
    )
    joined = latest.join(lake_versions, on=key, how="left")
    return joined.filter(_wins(F.col(cursor))).drop(_LAKE_CURSOR, _PRESENT)


def _wins(cursor: Column) -> Column:
    lake_cursor = F.col(_LAKE_CURSOR)
    newer = cursor.isNotNull() & (lake_cursor.isNull() | (cursor > lake_cursor))
    return F.col(_PRESENT).isNull() | newer


def _latest(incoming: DataFrame, key: list[str], cursor: str | None) -> DataFrame:
    """One row per key: the one with the greatest cursor."""
    if cursor is None:
        return incoming.dropDuplicates(key)
    order = SparkWindow.partitionBy(*key).orderBy(F.col(cursor).desc_nulls_last())
    ranked = incoming.withColumn("_salam_rank", F.row_number().over(order))
    return ranked.filter(F.col("_salam_rank") == 1).drop("_salam_rank")


def _affected(current: DataFrame, removal: DataFrame, key: list[str]) -> list[str]:
    """Names of the lake files that hold a key to remove (a list of files, never of keys)."""
    hit = current.join(removal, on=key, how="left_semi").select(FILE).distinct()
    return sorted(row[0] for row in hit.collect())
