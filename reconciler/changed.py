"""Which jobs a change since a git revision touches: ``reconcile --dry-run --changed-since REV``.

:func:`jobs` compares ``REV`` with the work tree (committed or not, untracked job files too) over
the environment's directory and the policies: the jobs whose own file was added, changed,
renamed or deleted, by job name — the name now and the name at ``REV``, so that a deleted or
renamed job's old schedule, to be deleted, is selected too. A change to anything every job
depends on — ``environment.yaml``, the Spark lock, any other file outside ``jobs/``, the
policies — selects every job (None). Pull-request CI on a large repository renders and diffs
only what the change touches; the policies still evaluate the environment as a whole.
"""

from __future__ import annotations

import subprocess
from pathlib import Path, PurePosixPath

import yaml

from ingestion.config import loader
from reconciler import revision
from reconciler.policy.files import POLICY_DIR


class ChangedError(Exception):
    """The files changed since the revision cannot be listed; the message says why."""


def jobs(environment: loader.Environment, since: str) -> frozenset[str] | None:
    """The names of the jobs of ``environment`` touched since ``since``; None for every job."""
    root = Path(environment.root)
    commit = revision.resolve(root, since)
    directory = f"{loader.ENVIRONMENTS_DIR}/{environment.name}"
    paths = _changed(root, commit, directory) | _untracked(root, f"{directory}/jobs")
    if any(not _is_job_file(path, directory) for path in paths):
        return None
    now = {job.path: job.name for job in environment.jobs}
    names = {now.get(path) for path in paths} | {_name_at(root, commit, path) for path in paths}
    return frozenset(name for name in names if name)


def _is_job_file(path: str, directory: str) -> bool:
    return PurePosixPath(path).parent == PurePosixPath(directory, "jobs")


def _changed(root: Path, commit: str, directory: str) -> set[str]:
    """Paths added, changed or deleted between ``commit`` and the work tree (a rename counts as
    its two paths)."""
    listed = _git(
        root, "diff", "--name-only", "--no-renames", "-z", commit, "--", directory, POLICY_DIR
    )
    return set(filter(None, listed.split("\0")))


def _untracked(root: Path, directory: str) -> set[str]:
    listed = _git(root, "ls-files", "--others", "--exclude-standard", "-z", "--", directory)
    return set(filter(None, listed.split("\0")))


def _name_at(root: Path, commit: str, path: str) -> str | None:
    """The job name a file had at ``commit`` (its ``name:``, else its stem), None when it did
    not exist: a deleted or renamed job's schedule is selected under its old name."""
    try:
        document = yaml.safe_load(_git(root, "show", f"{commit}:{path}"))
    except ChangedError:
        return None
    except yaml.YAMLError:
        document = None
    name = document.get("name") if isinstance(document, dict) else None
    return str(name) if name else PurePosixPath(path).stem


def _git(root: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise ChangedError(f"git {args[0]} in {root} failed: {done.stderr.strip()}")
    return done.stdout
