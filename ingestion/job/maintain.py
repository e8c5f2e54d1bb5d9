"""Table maintenance (``ingest maintain``): expire old snapshots, then remove orphan files.

Every incremental run adds a snapshot, and its metadata stays forever unless expired; a killed
commit leaves manifests and metadata files that nothing references. Two steps, per table:

* **expire**: the snapshots older than the retention leave the table's metadata in one catalog
  commit. The head of every branch and tag is never expired (pyiceberg's rule), so neither is
  the current snapshot, which carries the watermark and is where a running ingestion starts
  from. The list is made from the table as read; the catalog applies the removal on top of
  whatever was committed since, so a commit that lands meanwhile, and the head it replaced,
  stay. A commit racing the expiry's own makes the catalog refuse it (Salam's tables never
  rebase a refused commit): reported, nothing expired. An expired snapshot's run id is no
  longer known as committed, so the retention must outlast any retry of a run.
* **orphans**: files under the table's location that neither the current metadata nor any
  snapshot left (its manifest list, manifests, data and delete files) nor the metadata log
  references are deleted, once older than a grace period: the files of a running ingestion
  and of a commit in flight are younger, and the directories a running job has claimed are
  left alone whatever their age.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow.fs as pafs
from pyiceberg.exceptions import CommitFailedException
from pyiceberg.table import Table

from ingestion.config import identity, loader
from ingestion.config.diagnostics import ConfigError
from ingestion.config.durations import seconds
from ingestion.config.loader import Environment
from ingestion.exitcodes import ExitCode
from ingestion.job import lake
from ingestion.job.errors import JobError


@dataclass
class Maintained:
    """What one maintenance run did to one table."""

    table: str
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
            f"{self.table}: {self.snapshots_expired} snapshot(s) expired, "
            f"{self.snapshots_kept} kept; {self.files_removed} orphan file(s) removed "
            f"({self.bytes_removed:,} bytes)"
        )
        return "; ".join([text, *self.problems])


def execute(
    root: Path | None,
    env: str,
    overrides: Sequence[str],
    only: Sequence[str],
    retention: str,
    grace: str,
    as_json: bool,
) -> int:
    """``ingest maintain``: maintain each lake table the environment's jobs write (or those in
    ``only``), print what was done; the exit code (1 when a step could not be done)."""
    try:
        kept, waited = timedelta(seconds=seconds(retention)), timedelta(seconds=seconds(grace))
    except ValueError as exc:
        return _fail(f"{exc}: --retention and --grace take a duration", ExitCode.USAGE)
    root = (root or loader.find_root(Path.cwd())).resolve()
    try:
        environment = loader.load_environment(root, env, overrides)
    except ConfigError as exc:
        for diagnostic in exc.diagnostics:
            print(diagnostic.render(), file=sys.stderr)
        return ExitCode.INVALID
    known = tables(environment)
    unknown = sorted(set(only) - set(known))
    if unknown:
        named = ", ".join(known) or "none"
        message = f"no job of {env} writes {', '.join(unknown)} (its tables: {named})"
        return _fail(message, ExitCode.USAGE)
    try:
        catalog = lake.open_catalog(environment.settings, root)
        reports = _maintain_all(catalog, list(only) or known, datetime.now(UTC), kept, waited)
    except JobError as exc:
        return _fail(f"{exc.message} (hint: {exc.hint})", ExitCode.ERROR)
    _print(reports, as_json)
    return ExitCode.ERROR if any(report.problems for report in reports) else ExitCode.OK


def _maintain_all(
    catalog: Any, identifiers: Sequence[str], now: datetime, kept: timedelta, waited: timedelta
) -> list[Maintained]:
    reports = []
    for identifier in identifiers:
        table = lake.load_table(catalog, identifier)
        if table is None:
            reports.append(Maintained(identifier, skipped="not in the catalog yet (no run)"))
        else:
            reports.append(maintain(table, now, kept, waited))
    return reports


def _print(reports: Sequence[Maintained], as_json: bool) -> None:
    if as_json:
        print(json.dumps({"tables": [report.describe() for report in reports]}, indent=2))
        return
    for report in reports:
        print(report.line())


def _fail(message: str, code: int) -> int:
    print(f"error: {message}", file=sys.stderr)
    return code


def tables(environment: Environment) -> list[str]:
    """The lake tables the environment's jobs write (``namespace.table``), sorted."""
    found = set()
    for job in environment.jobs:
        namespace, target = identity.lake_namespace(job.data), job.data.get("target")
        found |= {
            f"{namespace}.{identity.table_name(target, t)}" for t in job.data["source"]["tables"]
        }
    return sorted(found)


def maintain(table: Table, now: datetime, retention: timedelta, grace: timedelta) -> Maintained:
    """Expire ``table``'s snapshots older than ``retention``, then delete its orphan files
    older than ``grace`` (both counted back from ``now``)."""
    done = Maintained(".".join(table.name()))
    try:
        done.snapshots_expired = expire(table, now - retention)
    except CommitFailedException:
        done.problems.append(
            "expire: another commit raced the expiry's own and the catalog refused it;"
            " nothing was expired: run maintenance again"
        )
    table.refresh()
    done.snapshots_kept = len(table.snapshots())
    done.files_removed, done.bytes_removed = remove_orphans(table, now - grace)
    return done


def expire(table: Table, before: datetime) -> int:
    """Expire the snapshots committed before ``before`` (never a branch or tag head); how many."""
    heads = {ref.snapshot_id for ref in table.metadata.refs.values()}
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
