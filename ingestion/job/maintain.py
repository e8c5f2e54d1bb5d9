"""Table maintenance (``ingest maintain``): compact small files, expire old snapshots, then
remove orphan files.

Every incremental run adds a snapshot and a few small files (ten rows make a file), and the
metadata stays forever unless expired; a killed commit leaves manifests and metadata files that
nothing references. Three steps, per table:

* **compact**: the current snapshot's data files smaller than half the target size are read
  and written again, packed into files of up to the target size, under
  ``data/salam-compact-<id>/``; one ``overwrite`` snapshot swaps them, conditional on the
  snapshot they were read from, so an ingestion that commits first makes the catalog refuse it:
  the new files are removed and the step is reported as a conflict (run it again). The rows,
  the watermark and the run ids are untouched. Partitioned tables are not compacted (Salam
  creates none).

* **expire**: the snapshots older than the retention leave the table's metadata in one catalog
  commit. The head of every branch and tag is never expired (pyiceberg's rule), so neither is
  the current snapshot, which carries the watermark; nor is the snapshot a running ingestion
  started from (its claim names it, :func:`ingestion.job.lake.claim`), though the compaction
  just moved the head past it: the run reads it until its commit, which the catalog then
  refuses (a transient failure, retried). The list is made from the table as read; the
  catalog applies the removal on top of whatever was committed since, so a commit that lands
  meanwhile, and the head it replaced, stay. A commit racing the expiry's own makes the
  catalog refuse it (Salam's tables never rebase a refused commit): reported, nothing expired.
  An expired snapshot's run id is no longer known as committed, so the retention must outlast
  any retry of a run.
* **orphans**: files under the table's location that neither the current metadata nor any
  snapshot left (its manifest list, manifests, data and delete files) nor the metadata log
  references are deleted, once older than a grace period: the files of a running ingestion
  and of a commit in flight are younger, and the directories a running job has claimed are
  left alone whatever their age.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq
from pyiceberg.exceptions import CommitFailedException
from pyiceberg.manifest import DataFile
from pyiceberg.table import Table

from ingestion.job import lake

TARGET_BYTES = 128 * 1024 * 1024  # compacted files are up to this size; smaller than half: small
COMPACT_DIR_PREFIX = "salam-compact-"
ROW_GROUP_ROWS = 1_000_000  # rows a compacted file's row groups hold (and memory holds at once)


@dataclass(frozen=True)
class Steps:
    """What one maintenance run does: expire snapshots older than ``retention`` and delete
    orphans older than ``grace`` (counted back from ``now``); compact into files of up to
    ``target`` bytes."""

    now: datetime
    retention: timedelta = timedelta(days=7)
    grace: timedelta = timedelta(days=1)
    target: int = TARGET_BYTES


@dataclass
class Maintained:
    """What one maintenance run did to one table."""

    table: str
    files_compacted: int = 0
    files_written: int = 0
    snapshots_expired: int = 0
    snapshots_kept: int = 0
    files_removed: int = 0
    bytes_removed: int = 0
    skipped: str = ""
    problems: list[str] = field(default_factory=list)

    def describe(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "skipped": self.skipped or None,
            "files_compacted": self.files_compacted,
            "files_written": self.files_written,
            "snapshots_expired": self.snapshots_expired,
            "snapshots_kept": self.snapshots_kept,
            "orphan_files_removed": self.files_removed,
            "orphan_bytes_removed": self.bytes_removed,
            "problems": self.problems,
        }

    def line(self) -> str:
        """One line for people: what was done, or why nothing was."""
        if self.skipped:
            return f"{self.table}: skipped, {self.skipped}"
        text = (
            f"{self.table}: {self.files_compacted} small file(s) compacted into "
            f"{self.files_written}; {self.snapshots_expired} snapshot(s) expired, "
            f"{self.snapshots_kept} kept; {self.files_removed} orphan file(s) removed "
            f"({self.bytes_removed:,} bytes)"
        )
        return "; ".join([text, *self.problems])


def maintain(table: Table, steps: Steps) -> Maintained:
    """Compact ``table``'s small files, expire its old snapshots, then delete its orphan files,
    as ``steps`` say."""
    done = Maintained(".".join(table.name()))
    try:
        done.files_compacted, done.files_written = compact(table, steps.target)
    except CommitFailedException:
        done.problems.append(
            "compact: an ingestion committed to the table first and the catalog refused the"
            " compaction; its files were removed and nothing changed: run maintenance again"
        )
    table.refresh()
    try:
        done.snapshots_expired = expire(table, steps.now - steps.retention)
    except CommitFailedException:
        done.problems.append(
            "expire: another commit raced the expiry's own and the catalog refused it;"
            " nothing was expired: run maintenance again"
        )
    table.refresh()
    done.snapshots_kept = len(table.snapshots())
    done.files_removed, done.bytes_removed = remove_orphans(table, steps.now - steps.grace)
    return done


def compact(table: Table, target: int) -> tuple[int, int]:
    """Rewrite the current snapshot's small data files into files of up to ``target`` bytes, in
    one snapshot conditional on the current one; (files replaced, files written)."""
    snapshot = table.current_snapshot()
    if snapshot is None or not table.spec().is_unpartitioned():
        return 0, 0
    small = [f for f in lake.current_files(table) if f.file_size_in_bytes * 2 < target]
    groups = [group for group in _packed(small, target) if len(group) > 1]
    if not groups:
        return 0, 0
    directory = f"{table.location().rstrip('/')}/data/{COMPACT_DIR_PREFIX}{uuid.uuid4().hex}"
    try:
        written = [
            _rewrite(group, f"{directory}/part-{i:05d}.parquet") for i, group in enumerate(groups)
        ]
        with table.transaction() as tx:
            lake.conditional(tx, snapshot.snapshot_id)
            lake.swap_files(tx, [f for group in groups for f in group], written, {})
    except BaseException:
        lake.clear_dir(directory)
        raise
    return sum(len(group) for group in groups), len(written)


def _packed(files: Sequence[DataFile], target: int) -> list[list[DataFile]]:
    """``files`` in groups of at most ``target`` bytes, in path order (first fit)."""
    groups: list[list[DataFile]] = []
    size = 0
    for file in sorted(files, key=lambda f: f.file_path):
        if not groups or size + file.file_size_in_bytes > target:
            groups.append([])
            size = 0
        groups[-1].append(file)
        size += file.file_size_in_bytes
    return groups


def _rewrite(group: Sequence[DataFile], uri: str) -> str:
    """Write the rows of ``group`` into one Parquet file at ``uri``, a row group of about
    :data:`ROW_GROUP_ROWS` rows at a time (memory stays bounded whatever the group's size),
    with the columns of every file of the group (a column a file lacks is null in its rows)."""
    schema = pa.unify_schemas([_schema(f.file_path) for f in group], promote_options="permissive")
    fs, path = lake.filesystem(uri)
    fs.create_dir(path.rsplit("/", 1)[0], recursive=True)
    pending: list[pa.Table] = []
    with fs.open_output_stream(path) as out, pq.ParquetWriter(out, schema, compression="zstd") as w:
        for file in group:
            pending.append(_conformed(_read(file.file_path), schema))
            if sum(part.num_rows for part in pending) >= ROW_GROUP_ROWS:
                w.write_table(pa.concat_tables(pending), row_group_size=ROW_GROUP_ROWS)
                pending = []
        if pending:
            w.write_table(pa.concat_tables(pending), row_group_size=ROW_GROUP_ROWS)
    return uri


def _conformed(rows: pa.Table, schema: pa.Schema) -> pa.Table:
    columns = [
        rows.column(f.name).cast(f.type)
        if f.name in rows.column_names
        else pa.nulls(rows.num_rows, f.type)
        for f in schema
    ]
    return pa.Table.from_arrays(columns, schema=schema)


def _read(uri: str) -> pa.Table:
    fs, path = lake.filesystem(uri)
    with fs.open_input_file(path) as handle:
        return pq.read_table(handle)


def _schema(uri: str) -> pa.Schema:
    fs, path = lake.filesystem(uri)
    with fs.open_input_file(path) as handle:
        return pq.read_schema(handle)


def expire(table: Table, before: datetime) -> int:
    """Expire the snapshots committed before ``before`` (never a branch or tag head, never one a
    running job started from); how many."""
    heads = {ref.snapshot_id for ref in table.metadata.refs.values()}
    heads |= lake.claimed_snapshots(table)
    old = [
        snapshot.snapshot_id
        for snapshot in table.snapshots()
        if snapshot.timestamp_ms < before.timestamp() * 1000 and snapshot.snapshot_id not in heads
    ]
    if old:
        table.maintenance.expire_snapshots().by_ids(old).commit()
    return len(old)


def referenced(table: Table) -> set[str]:
    """The paths of every file the table's metadata references, as its file system names them."""
    metadata = table.metadata
    uris = {table.metadata_location, *(entry.metadata_file for entry in metadata.metadata_log)}
    uris |= {statistics.statistics_path for statistics in metadata.statistics}
    uris |= {statistics.statistics_path for statistics in metadata.partition_statistics}
    for snapshot in table.snapshots():
        uris.add(snapshot.manifest_list)
        for manifest in snapshot.manifests(table.io):
            uris.add(manifest.manifest_path)
            entries = manifest.fetch_manifest_entry(table.io, discard_deleted=True)
            uris |= {entry.data_file.file_path for entry in entries}
    return {lake.filesystem(uri)[1] for uri in uris}


def remove_orphans(table: Table, before: datetime) -> tuple[int, int]:
    """Delete the files under the table's location that nothing references, last modified
    before ``before`` and outside the directories a running job claims; (files, bytes)."""
    fs, root = lake.filesystem(table.location())
    listed = fs.get_file_info(pafs.FileSelector(root, allow_not_found=True, recursive=True))
    keep = referenced(table)
    removed, size = 0, 0
    for info in listed:
        if info.type != pafs.FileType.File or info.path in keep or _young(info, before):
            continue
        if info.base_name.startswith(".") or _claimed(info.path):
            continue
        fs.delete_file(info.path)
        removed, size = removed + 1, size + (info.size or 0)
    return removed, size


def _young(info: pafs.FileInfo, before: datetime) -> bool:
    return info.mtime is None or info.mtime.timestamp() >= before.timestamp()


def _claimed(path: str) -> bool:
    """Whether ``path`` lies in a run's directory that a running job holds."""
    parts = path.split("/")
    for depth, part in enumerate(parts[:-1]):
        for prefix in (lake.RUN_DIR_PREFIX, lake.INCOMING_PREFIX):
            if part.startswith(prefix):
                return lake.held("/".join(parts[:depth]), part[len(prefix) :])
    return False
