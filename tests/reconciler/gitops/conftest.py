"""GitOps tests: a throw-away git repository holding a copy of an environment."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.reconciler.backends.temporal.conftest import temporal_server  # noqa: F401
from tests.reconciler.engine.conftest import store  # noqa: F401


def git(root: Path, *args: str) -> str:
    command = [
        "git",
        "-C",
        str(root),
        "-c",
        "user.name=Salam Test",
        "-c",
        "user.email=test@salam.local",
        *args,
    ]
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout.strip()


def commit(root: Path, message: str) -> str:
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)
    return git(root, "rev-parse", "HEAD")


@pytest.fixture
def repo(project: Callable[..., Path]) -> Callable[..., Path]:
    """A git repository with copies of the given environments, committed once."""

    def make(*envs: str) -> Path:
        root = project(*envs)
        (root / ".gitignore").write_text(".salam/\n")
        git(root, "init", "-q", "-b", "main")
        commit(root, "A: initial configs")
        return root

    return make


def edit(root: Path, env: str, job: str, old: str, new: str) -> None:
    path = root / "environments" / env / "jobs" / f"{job}.yaml"
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new))
