"""The git source: a branch fetched from a remote into the clone, or (remote ``.``) a branch of the
repository itself, which follows local commits without fetching; a missing branch is an error
that says what to set (a remote's missing branch fails its fetch, with git's own message)."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.controller.source import Source, SourceError
from tests.reconciler.gitops.conftest import git


def _repository(path: Path) -> Path:
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    (path / "a.txt").write_text("a\n")
    git(path, "add", "-A")
    git(path, "commit", "-qm", "A")
    return path


def test_a_local_branch_is_followed_without_a_remote_and_the_work_tree_is_left_alone(
    tmp_path: Path,
) -> None:
    root = _repository(tmp_path / "repo")
    source = Source(root, ".", "main")
    first = source.fetch()
    assert first == git(root, "rev-parse", "HEAD")

    git(root, "checkout", "-qb", "feature")
    (root / "a.txt").write_text("b\n")
    git(root, "commit", "-qam", "B on a branch")
    assert source.fetch() == first  # a commit on another branch is not main's

    git(root, "checkout", "-q", "main")
    git(root, "merge", "-q", "feature")
    assert source.fetch() == git(root, "rev-parse", "HEAD") != first
    assert git(root, "remote") == ""  # nothing was fetched from anywhere


def test_a_remote_branch_is_fetched_into_the_clone(tmp_path: Path) -> None:
    remote = _repository(tmp_path / "remote")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(remote), str(clone))
    source = Source(clone, "origin", "main")
    (remote / "a.txt").write_text("c\n")
    git(remote, "commit", "-qam", "C")
    assert source.fetch() == git(remote, "rev-parse", "HEAD")
    assert git(clone, "rev-parse", "HEAD") != git(remote, "rev-parse", "HEAD")  # not checked out


def test_a_missing_local_branch_says_which_and_what_to_set(tmp_path: Path) -> None:
    root = _repository(tmp_path / "repo")
    with pytest.raises(SourceError) as raised:
        Source(root, ".", "trunk").fetch()
    assert "no branch trunk in the repository" in str(raised.value)
    assert "sync.source.branch" in str(raised.value)
