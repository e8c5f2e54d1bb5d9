"""Progress of the main command's steps: a live line with elapsed time, or plain lines in CI.

``python -m tools.progress [--since EPOCH] [--log FILE] LABEL -- COMMAND [ARG...]``, run from the
project root, runs one step of ``scripts/main.sh`` and exits with the command's exit code. A dev
tool, not part of the installed packages: nothing imports it.

- On a terminal (stderr is a TTY, ``CI`` unset, ``TERM`` not ``dumb``, ``rich`` importable) a
  ``rich`` spinner shows the label, the elapsed time and the command's latest output line. The
  full output goes to the log file; the command's standard output is replayed once it ends (so a
  captured result such as an address still reaches the caller); a failure prints the tail of the
  log and where the whole of it is.
- Elsewhere (CI, a pipe, a fresh machine whose Python has no ``rich`` yet) it prints
  ``==> [ 12s] LABEL`` and the command's output streams through unchanged.

Only the standard library is imported at module level, and nothing from the project: the first
step of a fresh machine runs this with the bootstrap ``.venv`` holding ``rich`` only (the project
is not installed yet), and it must still work on a bare Python without ``rich``.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO

TAIL_LINES = 20
ELAPSED_AND_SPINNER = 16  # the columns beside the label and the latest line, with gaps


def interactive() -> bool:
    """True when a person is watching: a terminal, not CI, and ``rich`` available."""
    if os.environ.get("CI") or os.environ.get("TERM") == "dumb" or not sys.stderr.isatty():
        return False
    try:
        import rich  # noqa: F401
    except ImportError:
        return False
    return True


def run_plain(label: str, command: Sequence[str], since: float) -> int:
    """Print a plain header line, let the command's output stream through, return its exit code."""
    print(f"\n==> [{time.time() - since:3.0f}s] {label}", file=sys.stderr, flush=True)
    started = time.monotonic()
    code = subprocess.call(command)
    if code:
        print(f"    failed (exit {code}) after {time.monotonic() - started:.0f}s", file=sys.stderr)
    return code


def run_live(label: str, command: Sequence[str], log: Path) -> int:
    """Run the command under a ``rich`` spinner, its output to ``log``; replay its stdout after."""
    from rich.console import Console
    from rich.markup import escape
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    console = Console(stderr=True, highlight=False)
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        TextColumn("[dim]{task.fields[latest]}"),
    )
    log.parent.mkdir(parents=True, exist_ok=True)
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(escape(label), latest="")
        room = max(0, console.width - len(label) - ELAPSED_AND_SPINNER)

        def show(line: str) -> None:
            progress.update(task, latest=escape(line.strip()[:room]))

        code, stdout, tail, elapsed = _capture(command, log, show)
    if code == 0:
        console.print(f"[green]✓[/] {escape(label)} [dim]({elapsed:.0f}s)[/]")
        sys.stdout.write(stdout)
        sys.stdout.flush()
        return 0
    console.print(f"[red]✗[/] {escape(label)} failed (exit {code}) after {elapsed:.0f}s")
    console.print(f"[dim]last lines of {escape(str(log))}:[/]", soft_wrap=True)  # path unbroken
    sys.stderr.write("".join(tail))
    return code


def _capture(
    command: Sequence[str], log: Path, show: Callable[[str], None]
) -> tuple[int, str, list[str], float]:
    """Run ``command``, writing both streams to ``log`` as they come and showing each line.

    Returns the exit code, the command's whole standard output, the last lines of both streams
    and the elapsed seconds.
    """
    started = time.monotonic()
    stdout: list[str] = []
    tail: deque[str] = deque(maxlen=TAIL_LINES)
    lock = threading.Lock()
    with log.open("w", encoding="utf-8") as sink:

        def pump(stream: IO[str], keep: list[str] | None) -> None:
            for line in stream:
                with lock:
                    sink.write(line)
                    sink.flush()
                    tail.append(line)
                    if keep is not None:
                        keep.append(line)
                show(line)

        with subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, errors="replace"
        ) as process:
            assert process.stdout is not None and process.stderr is not None
            pumps = [
                threading.Thread(target=pump, args=(process.stdout, stdout)),
                threading.Thread(target=pump, args=(process.stderr, None)),
            ]
            for thread in pumps:
                thread.start()
            for thread in pumps:
                thread.join()
            code = process.wait()
    return code, "".join(stdout), list(tail), time.monotonic() - started


def default_log(label: str) -> Path:
    """``.salam/logs/<label as a slug>.log``."""
    return Path(".salam/logs", re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")[:40] + ".log")


def parse(argv: Sequence[str]) -> argparse.Namespace:
    """The command line: options, the label, then ``--`` and the command."""
    parser = argparse.ArgumentParser(prog="python -m tools.progress", description=__doc__)
    parser.add_argument("--since", type=float, default=time.time(), help="epoch seconds of t=0")
    parser.add_argument("--log", type=Path, help="where a live step's output goes")
    parser.add_argument("label", help="what the step does, as the user reads it")
    parser.add_argument("command", nargs="+", help="the command to run, after --")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one step and return its exit code."""
    args = parse(sys.argv[1:] if argv is None else argv)
    try:
        if interactive():
            return run_live(args.label, args.command, args.log or default_log(args.label))
        return run_plain(args.label, args.command, args.since)
    except FileNotFoundError as exc:
        print(f"error: cannot run {args.command[0]!r}: {exc.strerror}", file=sys.stderr)
        return 127


if __name__ == "__main__":
    sys.exit(main())
