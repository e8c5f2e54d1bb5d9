"""``reconcile history`` lists the applies of the audit log: a git project, applied on the
in-memory backend at two commits, then a failed (rolled back) apply; applies from uncommitted
files are marked dirty, a ``reconcile rollback --to REV`` is marked with its REV, and an apply
that removes every job still records the revision."""

from __future__ import annotations

import getpass
import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from reconciler.backends.memory import Store
from tests.conftest import run_reconcile
from tests.reconciler.engine import conftest as memory_fixtures

store = memory_fixtures.store  # every mode routed to a fresh in-memory backend


def git(root: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return done.stdout.strip()


def commit(root: Path, message: str) -> str:
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)
    return git(root, "rev-parse", "HEAD")


def reconcile(root: Path, *args: str):  # type: ignore[no-untyped-def]
    return run_reconcile("--env", "dev", "--root", str(root), "--lock-timeout", "5", *args)


def history(root: Path, *args: str):  # type: ignore[no-untyped-def]
    return run_reconcile("history", "--env", "dev", "--root", str(root), *args)


@pytest.fixture
def history_project(project: Callable[..., Path], store: Store) -> tuple[Path, list[str]]:
    """Applied at commit A, then at commit B (one cron changed), then a failed apply at C."""
    root = project("dev")
    (root / ".gitignore").write_text(".salam/\n")
    git(root, "init", "-q")
    revisions = [commit(root, "A")]
    assert reconcile(root).exit_code == 0
    job = root / "environments/dev/jobs/invoices.yaml"
    job.write_text(job.read_text().replace('"0 2 * * *"', '"0 3 * * *"'))
    revisions.append(commit(root, "B"))
    assert reconcile(root).exit_code == 0
    job.write_text(job.read_text().replace('"0 3 * * *"', '"0 4 * * *"'))
    revisions.append(commit(root, "C"))
    store.fail.add(("update", "ingest_invoices"))
    assert reconcile(root).exit_code == 1
    return root, revisions


def test_history_lists_every_apply_oldest_first(history_project: tuple[Path, list[str]]) -> None:
    root, revisions = history_project
    result = history(root, "--output", "json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["command"] == "history" and document["environment"] == "dev"
    rows = document["applies"]
    assert [r["revision"] for r in rows] == revisions
    assert [r["outcome"] for r in rows] == ["applied", "applied", "rolled-back"]
    assert [r["changes"] for r in rows] == [7, 1, 1]
    assert [r["dirty"] for r in rows] == [False, False, False]
    assert [r["rollback_to"] for r in rows] == [None, None, None]
    assert rows[2]["failed"] == 1
    assert {r["user"] for r in rows} == {getpass.getuser()}
    assert len({r["apply_id"] for r in rows}) == 3
    assert all(r["time"].endswith("+00:00") for r in rows)


def test_history_text_table(history_project: tuple[Path, list[str]]) -> None:
    root, revisions = history_project
    result = history(root)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == [
        "TIME",
        "APPLY",
        "ID",
        "REVISION",
        "OUTCOME",
        "CHANGES",
        "USER",
        "NOTE",
    ]
    assert len(lines) == 4
    assert lines[1].split()[2:] == [revisions[0][:12], "applied", "7", getpass.getuser()]
    assert lines[3].split()[2:5] == [revisions[2][:12], "rolled-back", "1"]


def test_history_limit_shows_the_last_n(history_project: tuple[Path, list[str]]) -> None:
    root, revisions = history_project
    document = json.loads(history(root, "--limit", "1", "-o", "json").stdout)
    assert [r["revision"] for r in document["applies"]] == revisions[2:]


def test_history_without_applies(project: Callable[..., Path], store: Store) -> None:
    root = project("dev")
    result = history(root)
    assert result.exit_code == 0
    assert result.stdout == "No applies recorded for environment 'dev'.\n"
    assert store.reads == 0, "history never reads a backend"


def test_history_of_an_unknown_environment_is_invalid(project: Callable[..., Path]) -> None:
    root = project("dev")
    result = run_reconcile("history", "--env", "nope", "--root", str(root))
    assert result.exit_code == 3


def audit_log(root: Path) -> list[dict[str, Any]]:
    path = root / ".salam/state/dev/audit.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_applies_from_uncommitted_files_are_marked_dirty(
    project: Callable[..., Path], store: Store
) -> None:
    root = project("dev")
    (root / ".gitignore").write_text(".salam/\n")
    git(root, "init", "-q")
    head = commit(root, "A")
    assert reconcile(root).exit_code == 0
    job = root / "environments/dev/jobs/invoices.yaml"
    job.write_text(job.read_text().replace('"0 2 * * *"', '"0 3 * * *"'))
    assert reconcile(root).exit_code == 0  # an edited job: its plan is dirty
    git(root, "checkout", "-q", "--", ".")
    (root / "environments/dev/jobs/payments.yaml").unlink()
    assert reconcile(root).exit_code == 0  # a deleted job: no plan is dirty, the apply is

    assert [r["dirty"] for r in audit_log(root)] == [False, True, True]
    rows = json.loads(history(root, "-o", "json").stdout)["applies"]
    assert [(r["revision"], r["dirty"]) for r in rows] == [
        (head, False),
        (head, True),
        (head, True),
    ]
    lines = history(root).stdout.splitlines()
    assert [line.split()[2] for line in lines[1:]] == [
        head[:12],
        f"{head[:12]}+dirty",
        f"{head[:12]}+dirty",
    ]


def test_a_rollback_is_marked_with_the_revision_it_went_back_to(
    project: Callable[..., Path], store: Store
) -> None:
    root = project("dev")
    (root / ".gitignore").write_text(".salam/\n")
    git(root, "init", "-q")
    first = commit(root, "A")
    assert reconcile(root).exit_code == 0
    job = root / "environments/dev/jobs/invoices.yaml"
    job.write_text(job.read_text().replace('"0 2 * * *"', '"0 3 * * *"'))
    second = commit(root, "B")
    assert reconcile(root).exit_code == 0
    rolled = run_reconcile(
        "rollback", "--env", "dev", "--to", "HEAD~1", "--root", str(root), "--lock-timeout", "5"
    )
    assert rolled.exit_code == 0, rolled.output
    assert reconcile(root, "--revision", second[:10]).exit_code == 0  # not a rollback

    records = audit_log(root)
    assert [r["rollback_to"] for r in records] == [None, None, "HEAD~1", None]
    assert [r["revision"] for r in records] == [first, second, first, second]
    rows = json.loads(history(root, "-o", "json").stdout)["applies"]
    assert [r["rollback_to"] for r in rows] == [None, None, "HEAD~1", None]
    lines = history(root).stdout.splitlines()
    assert lines[3].split()[2:4] == [first[:12], "applied"]
    assert lines[3].endswith(" rollback to HEAD~1")
    assert [line for line in lines[:-1] if "rollback" in line] == [lines[3]]
    # the pin the rollback left: a plain reconcile does not lift it (the controller's, or --unpin)
    assert lines[-1].startswith(f"Pinned to HEAD~1 ({first[:12]}) since ")
    assert json.loads(history(root, "-o", "json").stdout)["pin"]["revision"] == first


def test_an_apply_that_removes_every_job_records_the_revision(
    project: Callable[..., Path], store: Store
) -> None:
    root = project("dev")
    (root / ".gitignore").write_text(".salam/\n")
    git(root, "init", "-q")
    commit(root, "A")
    assert reconcile(root).exit_code == 0
    for path in (root / "environments/dev/jobs").glob("*.yaml"):
        path.unlink()
    emptied = commit(root, "B: every job removed")
    result = reconcile(root, "--allow-empty")
    assert result.exit_code == 0, result.output
    assert not store.resources

    last = audit_log(root)[-1]
    assert (last["revision"], last["dirty"], last["digests"]) == (emptied, False, {})
    assert len(last["changes"]) == 7
    assert history(root).stdout.splitlines()[-1].split()[2:5] == [emptied[:12], "applied", "7"]
