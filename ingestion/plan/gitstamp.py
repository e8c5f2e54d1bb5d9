"""The git revision a plan is rendered from, and whether its inputs were dirty.

One ``git rev-parse`` and one ``git status`` per environment, whatever the number of jobs.
Outside a git checkout (or without git) the revision is ``None``.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class GitStamp:
    revision: str | None
    dirty_paths: frozenset[str]

    def dirty(self, *paths: str) -> bool:
        return any(path in self.dirty_paths for path in paths)


def _git(root: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, text=True, check=False
        )
    except OSError:
        return None
    return done.stdout if done.returncode == 0 else None


def stamp(root: Path, directory: str) -> GitStamp:
    """Revision of ``root``'s HEAD and the changed paths under ``directory`` (root-relative)."""
    head = _git(root, "rev-parse", "HEAD")
    if head is None:
        return GitStamp(None, frozenset())
    status = _git(root, "status", "--porcelain=v1", "--untracked-files=all", "--", directory) or ""
    paths = frozenset(line[3:].split(" -> ")[-1].strip('"') for line in status.splitlines() if line)
    return GitStamp(head.strip(), paths)
