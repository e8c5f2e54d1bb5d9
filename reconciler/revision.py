"""Read an environment's configs as they were at a git revision, without touching the work tree.

``git archive REV -- environments/<env>`` is unpacked into a temporary directory and loaded
from there; the loaded environment keeps the real project root, so state, crontab targets and
hand-off folders stay where they are. Plans rendered from it are stamped with the revision.
Invalid configs raise the loader's :class:`~ingestion.config.loader.InvalidEnvironment`, its
valid part moved to the real root too (so the project's policies check it); a committed
symbolic link out of the tree is refused as invalid config, located at the link.
"""

from __future__ import annotations

import dataclasses
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from ingestion.config import loader
from ingestion.config.diagnostics import ConfigError
from ingestion.plan.gitstamp import GitStamp
from ingestion.shared import archive


class RevisionError(Exception):
    """The revision cannot be read; the message says why and what to try."""


def resolve(root: Path, revision: str) -> str:
    """The full commit id of ``revision`` in the repository at ``root``."""
    done = _git(root, "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}")
    if done.returncode != 0:
        raise RevisionError(f"unknown git revision '{revision}' in {root}")
    return done.stdout.decode().strip()


def environment_at(
    root: Path, env: str, revision: str, overrides: Sequence[str] = ()
) -> tuple[loader.Environment, GitStamp]:
    """The environment ``env`` as committed at ``revision``, and the stamp for its plans."""
    commit = resolve(root, revision)
    directory = f"{loader.ENVIRONMENTS_DIR}/{env}"
    archive = _git(root, "archive", "--format=tar", commit, "--", directory)
    if archive.returncode != 0:
        known = _git(
            root, "ls-tree", "--name-only", commit, f"{loader.ENVIRONMENTS_DIR}/"
        ).stdout.decode()
        names = ", ".join(Path(p).name for p in known.split()) or "none"
        raise RevisionError(
            f"no environment '{env}' at revision {commit[:12]} (environments there: {names})"
        )
    with tempfile.TemporaryDirectory(prefix="salam-rev-") as tmp:
        _unpack(archive.stdout, tmp)
        try:
            loaded = loader.load_environment(Path(tmp), env, overrides)
        except loader.InvalidEnvironment as exc:  # its valid part lives at the real root too
            if exc.valid is not None:
                exc.valid = dataclasses.replace(exc.valid, root=root)
            raise
    return dataclasses.replace(loaded, root=root), GitStamp(commit, frozenset())


def _unpack(data: bytes, directory: str) -> None:
    """Unpack ``git archive`` output; a link out of the tree (a job file that is a symbolic
    link outside the project) is refused as invalid config, located at the link."""
    try:
        archive.unpack(data, Path(directory))
    except archive.UnsafeMember as exc:
        raise ConfigError([loader.outside_project(exc.name)]) from exc


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(["git", "-C", str(root), *args], capture_output=True, check=False)
    except OSError as exc:
        raise RevisionError(f"git is not available: {exc}") from exc
