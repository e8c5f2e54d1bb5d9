"""The committed tree every artifact is built from, and the names it is released under.

Artifacts come from ``git archive HEAD``, not from the working tree: what is built is exactly
what the revision holds, whatever else lies in the checkout, and every file carries the commit's
time (so the build is reproducible). The version is written once, in ``ingestion/__init__.py``;
an image tag is the version and the abbreviated revision (``0.1.0-g1a2b3c4d5e6f``), never
``latest``.
"""

from __future__ import annotations

import ast
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ingestion.shared import archive

VERSION_FILE = Path("ingestion/__init__.py")


@dataclass(frozen=True)
class Source:
    """One committed revision, exported to ``tree``."""

    tree: Path
    version: str
    revision: str
    epoch: int
    dirty: bool

    @property
    def tag(self) -> str:
        return f"{self.version}-g{self.revision[:12]}"


def export(root: Path, into: Path) -> Source:
    """Export ``HEAD`` of the repository at ``root`` into ``into`` (created)."""
    revision = _git(root, "rev-parse", "HEAD").strip()
    epoch = int(_git(root, "show", "-s", "--format=%ct", "HEAD"))
    tree = subprocess.run(
        ["git", "-C", str(root), "archive", "--format=tar", "HEAD"],
        check=True,
        capture_output=True,
    ).stdout
    into.mkdir(parents=True, exist_ok=True)
    archive.unpack(tree, into)
    dirty = bool(_git(root, "status", "--porcelain", "--untracked-files=no").strip())
    return Source(into, version(into), revision, epoch, dirty)


def version(tree: Path) -> str:
    """The ``__version__`` assigned in ``ingestion/__init__.py`` (read, not imported)."""
    module = ast.parse((tree / VERSION_FILE).read_text())
    for node in module.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__version__" for t in node.targets
        ):
            return str(ast.literal_eval(node.value))
    raise ValueError(f"{VERSION_FILE} assigns no __version__")


def _git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(root), *args], check=True, capture_output=True, text=True
    ).stdout
