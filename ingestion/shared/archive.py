"""Unpack a tar archive (``git archive`` output) without letting a member escape its directory.

Python 3.11.4 and later refuse such members with the ``data`` extraction filter; Debian 12's
own Python is 3.11.2, which has no filters (``tarfile.data_filter`` and ``FilterError`` are
missing), so there the same rules are checked here before extracting: no absolute name, no
``..`` out of the directory, no link pointing out of it, nothing but files, directories and
links. Used by :mod:`reconciler.revision` (configs at a revision) and the release build.
"""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path


class UnsafeMember(Exception):
    """A member would be written outside the directory; ``name`` is the member's name."""

    def __init__(self, name: str, why: str) -> None:
        super().__init__(f"{name}: {why}")
        self.name = name


def unpack(data: bytes, directory: Path) -> None:
    """Extract the tar archive ``data`` into ``directory``; raise :class:`UnsafeMember`."""
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        if hasattr(tarfile, "data_filter"):
            try:
                archive.extractall(directory, filter="data")
            except tarfile.FilterError as exc:
                raise UnsafeMember(exc.tarinfo.name, str(exc)) from exc
            return
        for member in archive.getmembers():
            check(member, directory)
        archive.extractall(directory)


def check(member: tarfile.TarInfo, directory: Path) -> None:
    """Refuse a member the ``data`` filter would refuse for escaping ``directory``."""
    base = os.path.realpath(directory)
    if not (member.isfile() or member.isdir() or member.issym() or member.islnk()):
        raise UnsafeMember(member.name, "not a file, directory or link")
    if os.path.isabs(member.name) or not _inside(base, os.path.join(base, member.name)):
        raise UnsafeMember(member.name, "outside the destination")
    if member.issym():
        target = os.path.join(base, os.path.dirname(member.name), member.linkname)
        if os.path.isabs(member.linkname) or not _inside(base, target):
            raise UnsafeMember(member.name, f"links outside the destination ({member.linkname})")
    if member.islnk() and not _inside(base, os.path.join(base, member.linkname)):
        raise UnsafeMember(member.name, f"links outside the destination ({member.linkname})")


def _inside(base: str, path: str) -> bool:
    return os.path.commonpath([base, os.path.realpath(path)]) == base
