"""Adopting a hand-written crontab line, on the real crontab file target of a copy of dev, through
the CLI: a line outside Salam's block that runs a job's config is that job's unmanaged entry — a
conflict without ``adopt``; with it one write moves the line into the block under Salam's marker
(the job's line exactly once, never twice, never none), every other line byte for byte, and the
next run is in sync."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import run_reconcile

pytestmark = pytest.mark.integration
CRON_FILE = Path(".salam/cron/salam-dev.cron")
KEY = f"crontab/file:{CRON_FILE}/subscriptions"
OTHERS = "# hand-written\nMAILTO=ops@example.com\n0 5 * * * /usr/local/bin/backup.sh --all\n"


def reconcile(root: Path, *args: str) -> tuple[int, str]:
    result = run_reconcile("--env", "dev", "--backend", "crontab", "--root", str(root), *args)
    return result.exit_code, result.output


@pytest.fixture
def hand_written(project: Callable[..., Path]) -> tuple[Path, str]:
    """dev's subscriptions job, once applied and its line then moved out of the block by hand
    (as a team's crontab holds it before Salam), the block gone."""
    root = project("dev")
    assert reconcile(root)[0] == 0
    text = (root / CRON_FILE).read_text()
    line = next(x for x in text.splitlines() if "--config environments/dev/jobs/sub" in x)
    (root / CRON_FILE).write_text(OTHERS + line + "\n")
    return root, line


def test_without_adopt_the_line_is_a_conflict(hand_written: tuple[Path, str]) -> None:
    root, line = hand_written
    code, output = reconcile(root, "--dry-run", "--exit-code")
    assert code == 4, output
    assert f"! {KEY}  (conflict, job subscriptions)" in output
    code, output = reconcile(root)
    assert code == 1 and "not managed by Salam" in output, output
    assert (root / CRON_FILE).read_text() == OTHERS + line + "\n"


def test_adopt_moves_the_line_under_the_marker_then_in_sync(
    hand_written: tuple[Path, str],
) -> None:
    root, line = hand_written
    code, output = reconcile(root, "--dry-run", "--adopt", "--output", "json")
    assert code == 0, output
    changes = json.loads(output)["change_set"]["changes"]
    assert [(c["key"], c["action"], c["fields"]) for c in changes] == [(KEY, "adopt", [])]
    code, output = reconcile(root, "--adopt")
    assert code == 0, output
    assert f"<= {KEY}: adopted" in output
    text = (root / CRON_FILE).read_text()
    assert text.startswith(OTHERS)
    assert text.count(line) == 1 and text.splitlines()[-2] == line
    assert "# salam job=subscriptions digest=" in text
    code, output = reconcile(root, "--dry-run", "--exit-code")
    assert code == 0 and "in sync" in output, output


def test_adopt_rewrites_what_the_job_sets_in_the_same_write(
    hand_written: tuple[Path, str],
) -> None:
    root, line = hand_written
    fields = line.split(" ", 5)
    edited = " ".join(["15", *fields[1:]])
    (root / CRON_FILE).write_text(OTHERS + edited + "\n")
    code, output = reconcile(root, "--dry-run", "--adopt")
    assert code == 0, output
    assert f"<= {KEY}  (adopt, job subscriptions)" in output
    assert f'~ schedule: "15 {fields[1]}' in output
    assert reconcile(root, "--adopt")[0] == 0
    text = (root / CRON_FILE).read_text()
    assert edited not in text and text.count(line) == 1


def test_an_adopt_rolled_back_gives_the_line_back_as_it_was(
    hand_written: tuple[Path, str],
) -> None:
    root, line = hand_written
    export = ("--backend", "crontab", "--backend", "export")
    assert run_reconcile("--env", "dev", "--root", str(root), "--backend", "export").exit_code == 0
    folder = root / ".salam/export/dev"
    [first, *_] = sorted(folder.iterdir())
    first.unlink()
    first.mkdir()  # where its file goes back, a directory: that write fails, after the adopt
    before = (root / CRON_FILE).read_text()

    result = run_reconcile("--env", "dev", "--root", str(root), *export, "--adopt")

    assert result.exit_code == 1, result.output
    assert f"<= {KEY}: adopted" in result.output
    assert f"=> {KEY}: given back as it was before the adopt, not Salam's" in result.output
    assert (root / CRON_FILE).read_text() == before == OTHERS + line + "\n"  # not Salam's
    code, output = reconcile(root, "--dry-run", "--exit-code")
    assert code == 4 and f"! {KEY}  (conflict, job subscriptions)" in output, output
