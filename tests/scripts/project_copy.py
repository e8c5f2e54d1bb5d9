"""A throw-away copy of the project that shares its .venv (a git repository, as a clone is, when
asked), and the README's main command run in it: the set-up of the tests that try the product as
a new user would."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT


def make(target: Path) -> Path:
    """Copy every file git tracks (as it is in the work tree) to ``target``."""
    files = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "-z"], capture_output=True, check=True
    )
    for name in filter(None, files.stdout.decode().split("\0")):
        copied = target / name
        copied.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, copied)
    # the copy shares the project's venv: setup.sh must find it installed for this very
    # pyproject.toml, or it would reinstall the project from the copy into the shared venv
    stamp = (ROOT / ".venv/.salam-installed").read_text().strip()
    wanted = hashlib.sha256((target / "pyproject.toml").read_bytes()).hexdigest()
    if stamp != wanted:
        pytest.fail("the project's .venv is not installed for this pyproject.toml: run setup.sh")
    (target / ".venv").symlink_to(ROOT / ".venv")
    return target


GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Doc Test",
    "GIT_AUTHOR_EMAIL": "doc-test@localhost",
    "GIT_COMMITTER_NAME": "Doc Test",
    "GIT_COMMITTER_EMAIL": "doc-test@localhost",
}


def git(root: Path, *args: str) -> str:
    """``git ARGS`` in the copy, as the test's identity; its output."""
    done = subprocess.run(
        ["git", *args],
        cwd=root,
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, **GIT_IDENTITY},
    )
    return done.stdout.strip()


def cloned(root: Path) -> Path:
    """Make the copy a git repository on ``main`` with everything committed, as a fresh clone."""
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "as cloned")
    return root


def run_main(root: Path) -> str:
    """``bash scripts/main.sh`` in ``root`` as CI runs it; its output (rc != 0 fails the test)."""
    done = subprocess.run(
        ["bash", "scripts/main.sh"],
        check=False,
        cwd=root,
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "CI": "true"},
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout + done.stderr


def stop_services(root: Path) -> None:
    """End the copy's Temporal server and worker (by process id)."""
    subprocess.run(["bash", "scripts/dev-services.sh", "stop"], cwd=root, check=False)
