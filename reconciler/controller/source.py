"""The git source the controller follows: a local clone fetched from its remote, or a branch of
the repository itself.

:meth:`Source.fetch` updates ``refs/remotes/<remote>/<branch>`` from the remote and returns the
commit it points at. The remote ``.`` is git's own name for the repository itself (as in
``branch.<name>.remote = .``): nothing is fetched, the branch's head is the commit — a
developer's machine, where commits land on the local branch. Either way the work tree is never
touched (the engine renders committed revisions with ``git archive``,
:mod:`reconciler.revision`), so a hand edit in the clone never reaches a
backend. A fetch that fails or hangs past its timeout raises :class:`SourceError`, a transient
failure the loop backs off from.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

FETCH_TIMEOUT = 120.0
LOCAL = "."  # git's name for the repository itself as a remote


class SourceError(Exception):
    """The git source cannot be fetched or resolved; the message says which and why."""


@dataclass(frozen=True)
class Source:
    root: Path
    remote: str = "origin"
    branch: str = "main"

    @property
    def local(self) -> bool:
        """The branch is the repository's own (remote ``.``): nothing to fetch."""
        return self.remote == LOCAL

    @property
    def ref(self) -> str:
        if self.local:
            return f"refs/heads/{self.branch}"
        return f"refs/remotes/{self.remote}/{self.branch}"

    def fetch(self) -> str:
        """Fetch the branch from the remote (unless it is local); the commit id of its head."""
        if not self.local:
            refspec = f"+refs/heads/{self.branch}:{self.ref}"
            _git(self.root, "fetch", "--quiet", "--no-tags", self.remote, refspec)
        try:
            return _git(self.root, "rev-parse", "--verify", "--quiet", f"{self.ref}^{{commit}}")
        except SourceError:
            where = "in the repository" if self.local else f"fetched from {self.remote}"
            raise SourceError(
                f"no branch {self.branch} {where} at {self.root}: "
                "set sync.source.branch in environment.yaml (or --set sync.source.branch=NAME)"
            ) from None


@dataclass(frozen=True)
class WorkTree:
    """Follow the work tree as it is (dev): nothing to fetch, the engine renders the files."""

    root: Path

    def fetch(self) -> None:
        return None


def _git(root: Path, *args: str) -> str:
    try:
        done = subprocess.run(
            ["git", "-C", str(root), *args],
            capture_output=True,
            text=True,
            timeout=FETCH_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SourceError(f"git {args[0]} in {root} failed: {exc}") from exc
    if done.returncode != 0:
        raise SourceError(f"git {args[0]} in {root} failed: {done.stderr.strip()}")
    return done.stdout.strip()
