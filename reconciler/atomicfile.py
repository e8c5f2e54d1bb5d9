"""All-or-nothing file writes for the file-based backends (crontab file target, hand-off folders)
and for ``reconcile promote``'s change (:func:`write_all`).

A temporary file in the same directory is written and fsynced, given the old file's mode, renamed
over the target, and the directory is fsynced: a reader sees the old bytes or the new ones, never
a mix, and a crash leaves no half-written file.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Mapping
from pathlib import Path

DEFAULT_MODE = 0o644


def write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically, keeping the file's mode (0644 for a new file)."""
    temporary = _stage(path, data)
    try:
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    fsync_directory(path.parent)


def _stage(path: Path, data: bytes) -> str:
    """A fsynced temporary beside ``path`` holding ``data``, with the file's mode."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        mode = DEFAULT_MODE
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    return temporary


def fsync_directory(path: Path) -> None:
    """Make a rename or unlink in ``path`` durable."""
    directory = os.open(path, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def write_all(files: Mapping[Path, bytes]) -> None:
    """Write several files as nearly all-or-nothing as a file system allows: every temporary
    is written and fsynced first (a failure there removes them all and changes nothing), then
    each is renamed over its target."""
    staged: list[tuple[str, Path]] = []
    try:
        for path, data in files.items():
            staged.append((_stage(path, data), path))
    except BaseException:
        for temporary, _ in staged:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
        raise
    for temporary, path in staged:
        os.replace(temporary, path)
    for directory in {path.parent for path in files}:
        fsync_directory(directory)
