"""The docs run as written: every fenced shell command of README.md and docs/**/*.md, in order per
page, in a fresh copy of the project (a git repository) after the README's main command.

A command that exits otherwise than its text says (0 unless a trailing ``# exit N`` states it)
fails the test, naming the page, the line, the command and its output. Commands that need a
system these machines lack are on :data:`tests.docs.commands.EXTERNAL`, each with its reason;
the fast tests below keep that list honest (no command is left unclassified, no entry is stale).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.docs import commands
from tests.scripts import project_copy

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
PAGE_TIMEOUT_SECONDS = 900


def _all() -> list[commands.Command]:
    return [command for page in PAGES for command in commands.commands(page, ROOT)]


def _runnable(page: Path) -> list[commands.Command]:
    return [c for c in commands.commands(page, ROOT) if c.text not in commands.EXTERNAL]


def test_the_docs_have_commands_and_each_external_one_has_a_reason() -> None:
    found = _all()
    assert len(found) >= 40, f"only {len(found)} commands found: is the extraction broken?"
    texts = {command.text for command in found}
    stale = sorted(set(commands.EXTERNAL) - texts)
    assert not stale, f"EXTERNAL names commands no page has any more: {stale}"
    assert all(reason.strip() for reason in commands.EXTERNAL.values())


def test_placeholders_are_filled_and_no_unfilled_one_is_left() -> None:
    filled = commands.fill(
        "temporal schedule describe --address HOST:PORT --namespace ingestion-E "
        "--schedule-id salam-E-<job> [--dry-run]"
    )
    assert filled == (
        "temporal schedule describe --address $T --namespace ingestion-dev "
        "--schedule-id salam-dev-usage_records"
    )
    leftovers = [c.where for c in _all() if "<" in c.text.replace("<<", "") or " E " in c.text]
    assert not leftovers, f"placeholders without a value in commands.PLACEHOLDERS: {leftovers}"


def test_every_command_is_one_whole_bash_command() -> None:
    """A quote or a here-document left open across lines would be cut into broken pieces."""
    broken = []
    for command in _all():
        checked = subprocess.run(
            ["bash", "-n", "-c", command.text], check=False, capture_output=True, text=True
        )
        if checked.returncode != 0:
            broken.append(f"{command.where}: `{command.text}`: {checked.stderr.strip()}")
    assert not broken, "\n".join(broken)


def test_a_stated_exit_code_and_a_quoted_hash_are_read_as_a_person_reads_them(
    tmp_path: Path,
) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "```bash\n"
        "reconcile drift --env E   # exit 4: paused\n"
        "reconcile validate --env E   # exit 3 if any\n"
        "echo 'a # b' \\\n"
        "  done\n"
        "cat > f <<'EOF'  # exit 1: a comment on the first line\n"
        "x: 1  # kept\n"
        "EOF\n"
        "```\n"
    )
    found = commands.commands(page, tmp_path)
    assert [(c.line, c.text, c.expected_exit) for c in found] == [
        (2, "reconcile drift --env dev", 4),
        (3, "reconcile validate --env dev", 0),
        (4, "echo 'a # b' done", 0),
        (6, "cat > f <<'EOF'\nx: 1  # kept\nEOF", 1),
    ]


@pytest.fixture(scope="module")
def after_main(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh copy (its own git repository) on which the main command has run."""
    root = project_copy.cloned(project_copy.make(tmp_path_factory.mktemp("docs-project")))
    try:
        project_copy.run_main(root)
        yield root
    finally:
        project_copy.stop_services(root)


@pytest.mark.timeout(PAGE_TIMEOUT_SECONDS + 1200)
@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_command_of_the_page_does_what_its_text_says(
    page: Path, after_main: Path, tmp_path: Path
) -> None:
    runnable = _runnable(page)
    if not runnable:
        pytest.skip("no fenced shell command to run on this page")
    outcomes = _run(runnable, after_main, tmp_path)
    wrong = [
        f"{command.where}: `{command.text}` exited {code}, the docs say {command.expected_exit}"
        f"\n{_tail(log)}"
        for command, (code, log) in zip(runnable, outcomes, strict=True)
        if code != command.expected_exit
    ]
    assert not wrong, "\n\n".join(wrong)


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-2000:] if log.exists() else "(never reached)"


def _run(runnable: list[commands.Command], root: Path, logs: Path) -> list[tuple[int | None, Path]]:
    """Run the page's commands in one bash session (aliases and variables carry over, as in a
    person's terminal); each command's exit code and output, None for one never reached."""
    codes = logs / "codes"
    lines = [
        "shopt -s expand_aliases",
        "source .venv/bin/activate  # as the README says before its everyday commands",
        "T=$(cat .salam/services/temporal.address)  # HOST:PORT: the main command's server",
    ]
    for index, command in enumerate(runnable):
        lines += [f"{{ {command.text}", f'}} >"{logs}/{index}.log" 2>&1 </dev/null']
        lines.append(f'echo "{index} $?" >>"{codes}"')
    home = logs / "home"
    home.mkdir()
    subprocess.run(
        ["bash", "-c", "\n".join(lines)],
        cwd=root,
        env={
            **os.environ,
            **project_copy.GIT_IDENTITY,
            "CI": "true",
            "HOME": str(home),
            "SHELL": "/bin/bash",
        },
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=PAGE_TIMEOUT_SECONDS,
        check=False,
    )
    done = dict(line.split() for line in codes.read_text().splitlines()) if codes.exists() else {}
    return [
        (int(done[str(i)]) if str(i) in done else None, logs / f"{i}.log")
        for i in range(len(runnable))
    ]
