"""The main command's step runner: what a person sees on a terminal, and what CI sees in its log."""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios
from pathlib import Path

from tests.conftest import ROOT

LABEL = "load the lake"
COLUMNS = 40  # a narrow terminal: the latest output line must give way, not the elapsed time


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "TERM")}
    return {**env, "PYTHONPATH": str(ROOT), **extra}


def _step(*command: str, tmp_path: Path) -> list[str]:
    log = tmp_path / "step.log"
    return [sys.executable, "-m", "tools.progress", "--log", str(log), LABEL, "--", *command]


def _on_terminal(argv: list[str], cwd: Path) -> tuple[int, str, str]:
    """Run with stderr on a pseudo-terminal (as a person would); return code, stdout, screen."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, COLUMNS, 0, 0))
    with subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=slave, env=_env(TERM="xterm"), cwd=cwd
    ) as process:
        os.close(slave)
        screen = b""
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            screen += chunk
        assert process.stdout is not None
        stdout = process.stdout.read().decode()
        code = process.wait(timeout=30)
    os.close(master)
    return code, stdout, screen.decode(errors="replace")


def test_in_ci_each_step_is_one_plain_line_and_the_output_streams_through(tmp_path: Path) -> None:
    argv = _step("sh", "-c", "echo result; echo working >&2; exit 3", tmp_path=tmp_path)

    done = subprocess.run(
        argv, capture_output=True, text=True, env=_env(CI="true"), cwd=tmp_path, check=False
    )

    assert done.returncode == 3
    assert done.stdout == "result\n"
    assert f"] {LABEL}\n" in done.stderr and done.stderr.lstrip().startswith("==> [")
    assert "working" in done.stderr and "failed (exit 3)" in done.stderr
    assert "\x1b[" not in done.stderr  # no terminal control codes in a CI log
    assert not (tmp_path / "step.log").exists()


def test_on_a_terminal_a_live_line_ticks_and_the_result_is_replayed(tmp_path: Path) -> None:
    long_line = "working " + "x" * 150
    # the pause orders the two pipes: the stderr line is the latest whatever the load
    script = f"echo result; sleep 0.5; echo {long_line} >&2; sleep 1.5"
    argv = _step("sh", "-c", script, tmp_path=tmp_path)

    code, stdout, screen = _on_terminal(argv, tmp_path)

    assert code == 0
    assert stdout == "result\n"  # a caller capturing the step's output still gets it
    assert LABEL in screen and "0:00:01" in screen  # the elapsed time ticks while it runs
    assert "working" in screen  # the latest output line is shown beside it
    assert "✓" in screen
    assert (tmp_path / "step.log").read_text().splitlines() == ["result", long_line]


def test_on_a_terminal_a_failure_shows_the_tail_and_where_the_log_is(tmp_path: Path) -> None:
    script = "for i in $(seq 1 30); do echo line-$i >&2; done; exit 4"
    argv = _step("sh", "-c", script, tmp_path=tmp_path)

    code, stdout, screen = _on_terminal(argv, tmp_path)

    assert code == 4
    assert stdout == ""  # a failed step hands nothing on to its caller
    assert f"{LABEL} failed (exit 4)" in screen
    assert str(tmp_path / "step.log") in screen.replace("\r\n", "")
    tail = screen.split("last lines of")[1].split()
    assert tail[-20:] == [f"line-{i}" for i in range(11, 31)] and "line-10" not in tail
    assert len((tmp_path / "step.log").read_text().splitlines()) == 30


def test_a_missing_command_is_named(tmp_path: Path) -> None:
    argv = _step("no-such-salam-command", tmp_path=tmp_path)

    done = subprocess.run(
        argv, capture_output=True, text=True, env=_env(CI="true"), cwd=tmp_path, check=False
    )

    assert done.returncode == 127
    assert "cannot run 'no-such-salam-command'" in done.stderr
