"""The Iceberg lake through pyiceberg: the catalog, one table per source table, its state.

The state of a table is in its metadata, committed together with the data: the table
properties ``salam.watermark`` / ``salam.last_run_id`` and, on every snapshot Salam commits,
the summary properties ``salam.run_id`` and ``salam.watermark``. Data files of a run are
written under ``<table location>/data/salam-run-<run id>/`` and only become visible when that
run's snapshot is committed; directories of runs that never committed are removed by the next run.
A merge run first materialises its window under ``data/salam-in-<run id>/`` (never committed).

Every lake row carries the load columns ``_salam_run_id`` and ``_salam_extracted_at``; an
append table's tombstone rows (a key deleted in the source) carry ``_salam_deleted = true``.
Salam's tables never let pyiceberg rebase a commit (``commit.retry.num-retries = 0``): a commit
is conditional on the snapshot the run started from.
"""

from __future__ import annotations

import fcntl
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import pyarrow as pa
import pyarrow.fs as pafs
from pyiceberg.catalog import Catalog, load_catalog
from pyiceberg.exceptions import NoSuchTableError, ValidationError
from pyiceberg.io.pyarrow import parquet_file_to_data_file
from pyiceberg.manifest import DataFile
from pyiceberg.table import Table, Transaction
from pyiceberg.table.refs import MAIN_BRANCH
from pyiceberg.table.update import AssertRefSnapshotId

from ingestion.job import credentials
from ingestion.job.dialects import sqlite_text
from ingestion.job.errors import JobError, RunExit
from ingestion.job.window import parse_ts

WATERMARK = "salam.watermark"
RUN_ID = "salam.run_id"
LAST_RUN_ID = "salam.last_run_id"
DELETES_CHECKED = "salam.deletes.checked_at"
RUN_DIR_PREFIX = "salam-run-"
INCOMING_PREFIX = "salam-in-"
RUN_ID_COLUMN = "_salam_run_id"
EXTRACTED_AT_COLUMN = "_salam_extracted_at"
DELETED_COLUMN = "_salam_deleted"
LOAD_COLUMNS = (RUN_ID_COLUMN, EXTRACTED_AT_COLUMN, DELETED_COLUMN)
NO_REBASE = {"commit.retry.num-retries": "0"}
STAGE = "load"


@dataclass(frozen=True)
class TableState:
    watermark: datetime | None
    committed_runs: frozenset[str]
    snapshot_id: int | None

    def committed(self, run_id: str) -> bool:
        return run_id in self.committed_runs


def resolve_uri(value: str, root: Path) -> str:
    """Make ``sqlite:///rel/path`` and ``file://rel/path`` absolute against the project root."""
    for prefix in ("sqlite:///", "file://"):
        if value.startswith(prefix):
            rest = value[len(prefix) :]
            if prefix == "file://" and rest.startswith("/"):
                return value
            if prefix == "sqlite:///" and rest.startswith("/"):
                return value
            return f"{prefix}{(root / rest).resolve()}"
    return value


def open_catalog(settings: Mapping[str, Any], root: Path) -> Catalog:
    """The environment's catalog (``lake.catalog``), relative paths resolved against ``root``."""
    lake = settings.get("lake")
    if not lake:
        raise JobError(
            "config",
            "environment.yaml has no `lake` section",
            "add lake.catalog and lake.warehouse",
            RunExit.INVALID,
        )
    catalog = credentials.catalog_properties(lake["catalog"])  # user, password_ref → uri
    props = {k: v for k, v in catalog.items() if k != "name"}
    props = {k: resolve_uri(v, root) for k, v in props.items()}
    warehouse = resolve_uri(str(lake["warehouse"]), root)
    props.setdefault("warehouse", warehouse)
    _prepare_local(props)
    return load_catalog(str(lake["catalog"]["name"]), **props)


def _prepare_local(props: Mapping[str, str]) -> None:
    uri = props.get("uri", "")
    if uri.startswith("sqlite:///"):
        Path(uri[len("sqlite:///") :]).parent.mkdir(parents=True, exist_ok=True)
    warehouse = props.get("warehouse", "")
    if warehouse.startswith("file://"):
        Path(warehouse[len("file://") :]).mkdir(parents=True, exist_ok=True)


def load_table(catalog: Catalog, identifier: str) -> Table | None:
    try:
        return catalog.load_table(identifier)
    except NoSuchTableError:
        return None


def state(table: Table | None) -> TableState:
    """The committed watermark and run ids of ``table`` (empty for a missing table)."""
    if table is None:
        return TableState(None, frozenset(), None)
    runs = {
        str(snap.summary.additional_properties[RUN_ID])
        for snap in table.snapshots()
        if snap.summary and RUN_ID in snap.summary.additional_properties
    }
    last = table.properties.get(LAST_RUN_ID)
    if last:
        runs.add(last)
    snapshot = table.current_snapshot()
    return TableState(
        parse_ts(table.properties.get(WATERMARK)),
        frozenset(runs),
        snapshot.snapshot_id if snapshot else None,
    )


def ensure_table(catalog: Catalog, identifier: str, schema: pa.Schema) -> Table:
    """Load the table, or create it empty (no snapshot, no watermark: the 'before' state)."""
    table = load_table(catalog, identifier)
    if table is not None:
        return table
    namespace = identifier.rsplit(".", 1)[0]
    catalog.create_namespace_if_not_exists(namespace)
    return catalog.create_table_if_not_exists(identifier, schema=schema, properties=NO_REBASE)


def current_files(table: Table) -> list[DataFile]:
    """The data files of the table's current snapshot."""
    if table.current_snapshot() is None:
        return []
    return [task.file for task in table.scan().plan_files()]


def swap_files(
    tx: Transaction, removed: Sequence[DataFile], added: Sequence[str], props: dict[str, str]
) -> None:
    """Remove ``removed`` and add the Parquet files at ``added`` in one ``overwrite``
    snapshot of ``tx`` (a merge's rewrite, a compaction)."""
    io = tx._table.io
    with tx.update_snapshot(snapshot_properties=props).overwrite() as producer:
        for old in removed:
            producer.delete_data_file(old)
        for path in added:
            producer.append_data_file(parquet_file_to_data_file(io, tx.table_metadata, path))


def conditional(tx: Transaction, snapshot_id: int | None) -> None:
    """Make ``tx`` commit only while the table's head is still ``snapshot_id`` (None: no
    snapshot yet). Staged first: the producers' own (rebasable) requirement is then dropped."""
    started_from = AssertRefSnapshotId.model_validate(
        {"ref": MAIN_BRANCH, "snapshot-id": snapshot_id}
    )
    tx._stage((), (started_from,))


def without_rebase(table: Table) -> Table:
    """Make sure pyiceberg never rebases a commit of ``table`` onto a concurrent one."""
    if all(table.properties.get(k) == v for k, v in NO_REBASE.items()):
        return table
    with table.transaction() as tx:
        tx.set_properties(NO_REBASE)
    return table


_TYPE_CHANGE = re.compile(
    r"Cannot change column type: (?P<column>[^:]+): (?P<old>.+) -> (?P<new>.+)$"
)


def check_schema(table: Table, schema: pa.Schema, identifier: str) -> list[str]:
    """The columns the run would add; raise a terminal error for an incompatible change."""
    try:
        update = table.update_schema().union_by_name(schema)
        new_schema = update._apply()
    except (ValidationError, ValueError) as exc:
        raise schema_error(identifier, str(exc)) from None
    known = set(table.schema().column_names)
    return [name for name in new_schema.column_names if name not in known]


def schema_error(identifier: str, text: str) -> JobError:
    match = _TYPE_CHANGE.search(text)
    if match:
        message = (
            f"incompatible schema change in {identifier}: column '{match['column']}' is "
            f"{match['old']} in the lake but {match['new']} in the source"
        )
    else:
        message = f"incompatible schema change in {identifier}: {text}"
    hint = (
        "only added columns and type widenings evolve a table; "
        "cast the column (custom_schema) or migrate the table"
    )
    return JobError("load", message, hint)


def literal(value: datetime, iceberg_type: str) -> Any:
    """``value`` as a row filter's literal for a cursor column of ``iceberg_type`` (SQLite's
    text timestamps compare as text)."""
    if iceberg_type == "string":
        return sqlite_text(value)
    if iceberg_type == "timestamp":
        return value.replace(tzinfo=None).isoformat(timespec="microseconds")
    return value.isoformat(timespec="microseconds")


def staging_uri(table: Table, run_id: str) -> str:
    return f"{table.location().rstrip('/')}/data/{RUN_DIR_PREFIX}{run_id}"


def incoming_uri(table: Table, run_id: str) -> str:
    """Where a merge run materialises its window (read once from the source, never committed)."""
    return f"{table.location().rstrip('/')}/data/{INCOMING_PREFIX}{run_id}"


def local_path(uri: str) -> str:
    """The path part of a file URI, as pyiceberg and Spark name the same file differently."""
    return unquote(urlparse(uri).path) if "://" in uri else uri


def filesystem(uri: str) -> tuple[pafs.FileSystem, str]:
    parsed = urlparse(uri)
    if parsed.scheme in ("", "file"):
        return pafs.LocalFileSystem(), parsed.path if parsed.scheme else uri
    return pafs.FileSystem.from_uri(uri)


def clear_dir(directory_uri: str) -> None:
    """Remove a staging directory left by an earlier, uncommitted attempt of the same run id."""
    fs, path = filesystem(directory_uri)
    if fs.get_file_info(path).type == pafs.FileType.Directory:
        fs.delete_dir(path)


def data_files(directory_uri: str) -> list[str]:
    """The Parquet files under a run's staging directory, as URIs."""
    fs, path = filesystem(directory_uri)
    info = fs.get_file_info(pafs.FileSelector(path, allow_not_found=True, recursive=False))
    prefix = directory_uri.rstrip("/")
    return sorted(
        f"{prefix}/{i.base_name}"
        for i in info
        if i.type == pafs.FileType.File and i.base_name.endswith(".parquet")
    )


def remove_uncommitted(table: Table, current: TableState, keep: str) -> list[str]:
    """Delete staging directories of runs that never committed; return their run ids."""
    data_dir = f"{table.location().rstrip('/')}/data"
    fs, path = filesystem(data_dir)
    entries = fs.get_file_info(pafs.FileSelector(path, allow_not_found=True, recursive=False))
    removed = []
    live: set[str] | None = None
    for entry in entries:
        if (
            entry.base_name.startswith(INCOMING_PREFIX)
            and entry.base_name != f"{INCOMING_PREFIX}{keep}"
        ):
            fs.delete_dir(entry.path)
            continue
        run = entry.base_name[len(RUN_DIR_PREFIX) :]
        if entry.type != pafs.FileType.Directory or not entry.base_name.startswith(RUN_DIR_PREFIX):
            continue
        if run == keep or current.committed(run) or held(path, run):
            continue
        if live is None:
            live = _live_directories(table)
        if f"{RUN_DIR_PREFIX}{run}" in live:
            continue
        fs.delete_dir(entry.path)
        removed.append(run)
    return removed


def _live_directories(table: Table) -> set[str]:
    """Staging directory names referenced by the data files of any snapshot the table keeps:
    a run whose own snapshot was expired (``ingest maintain``) may still have files that a
    later snapshot reads."""
    if table.current_snapshot() is None:
        return set()
    paths = table.inspect.all_files().column("file_path").to_pylist()
    return {p.rstrip("/").split("/")[-2] for p in paths}


def _claim_file(data_path: str, run_id: str) -> Path:
    return Path(data_path) / f".{RUN_DIR_PREFIX}{run_id}.lock"


@contextmanager
def claim(table: Table, run_id: str, started_from: int | None = None) -> Iterator[None]:
    """Hold this run's claim on its directories, so a concurrent run never removes them, and on
    the snapshot it started from (``started_from``), so maintenance never expires it.

    An ``flock`` (released by the kernel when the process dies, so a crashed run's files are
    removable at once) on a file that names the snapshot — on a local warehouse only; object
    stores have no such lock.
    """
    fs, data_path = filesystem(f"{table.location().rstrip('/')}/data")
    if not isinstance(fs, pafs.LocalFileSystem):
        yield
        return
    Path(data_path).mkdir(parents=True, exist_ok=True)
    lock = _claim_file(data_path, run_id)
    with lock.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        handle.write(f"{started_from}\n" if started_from is not None else "")
        handle.flush()
        try:
            yield
        finally:
            lock.unlink(missing_ok=True)


def claimed_snapshots(table: Table) -> set[int]:
    """The snapshots running jobs started from (:func:`claim`), on a local warehouse."""
    fs, data_path = filesystem(f"{table.location().rstrip('/')}/data")
    if not isinstance(fs, pafs.LocalFileSystem) or not Path(data_path).is_dir():
        return set()
    found = set()
    for lock in Path(data_path).glob(f".{RUN_DIR_PREFIX}*.lock"):
        run_id = lock.name[len(RUN_DIR_PREFIX) + 1 : -len(".lock")]
        try:
            text = lock.read_text()
        except FileNotFoundError:  # the run ended meanwhile
            continue
        if text.strip().isdigit() and held(data_path, run_id):
            found.add(int(text.strip()))
    return found


def held(data_path: str, run_id: str) -> bool:
    """Whether a running job holds the claim on run ``run_id``'s directories (:func:`claim`)."""
    lock = _claim_file(data_path, run_id)
    if not lock.exists():
        return False
    with lock.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
    return False
