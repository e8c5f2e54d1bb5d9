"""Recognise a schedule's command written outside Salam: is it Salam's ingestion, and which job
config does it run? The inverse of :func:`ingestion.plan.render.execution_command`.

``reconcile import`` and the crontab backend (to find a hand-written line it may adopt) call
:func:`command_line` on a crontab line's command, or :func:`argv` on a Temporal schedule's or a
CronJob's argv. A command line is split as the shell does (``shlex``) into an optional
``cd DIR &&``, then the command: leading ``VAR=value`` words and a ``flock [-n|-w N] LOCK``
prefix are skipped, and ``>> LOG`` / ``2>&1`` redirections are taken off. The argv is Salam's
ingestion when it is one of ``spark-submit … …/ingestion/entrypoints/spark_submit.py run
--config X``, ``python[3] -m ingestion [run] --config X`` or ``ingest run --config X``, with
nothing after the config. Anything else raises :class:`Unrecognised` saying why: a command is
never guessed.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

SPARK_APP = "ingestion/entrypoints/spark_submit.py"
_PYTHON = re.compile(r"^python(3(\.\d+)?)?$")
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_SEPARATORS = ("&&", ";", "||", "|", "&")


class Unrecognised(ValueError):
    """The command is not (recognisably) Salam's ingestion; the message says why."""


@dataclass(frozen=True)
class Recognised:
    """Salam's ingestion, found: the job config it runs, as written, and where it runs."""

    config: str
    runner: str  # spark-submit | python | ingest
    argv: tuple[str, ...]
    workdir: str | None = None
    log_file: str | None = None

    def config_under(self, root: str) -> str | None:
        """The config's path relative to the project ``root`` (``cd`` applied), or None when
        it lies outside."""
        path = PurePosixPath(self.config)
        if not path.is_absolute():
            path = PurePosixPath(self.workdir or root) / path
        relative = os.path.relpath(os.path.normpath(str(path)), os.path.normpath(root))
        return None if relative.startswith("..") else relative


def command_line(text: str) -> Recognised:
    """A crontab line's command (cron's ``\\%`` read as ``%``)."""
    lexer = shlex.shlex(text.replace("\\%", "%"), posix=True, punctuation_chars=";&|<>")
    lexer.whitespace_split = True
    try:
        words = list(lexer)
    except ValueError as exc:
        raise Unrecognised(f"the shell cannot split it ({exc})") from None
    parts = _split(words)
    workdir = None
    if len(parts) == 2 and len(parts[0]) == 2 and parts[0][0] == "cd":
        workdir, parts = parts[0][1], parts[1:]
    if len(parts) != 1:
        raise Unrecognised("it runs more than one command (only `cd DIR && command` is read)")
    command, log_file = _redirections(parts[0])
    return argv(_prefixes(command), workdir, log_file)


def argv(
    words: Sequence[str], workdir: str | None = None, log_file: str | None = None
) -> Recognised:
    """An argv, as a Temporal schedule's or a CronJob's command holds it."""
    if not words:
        raise Unrecognised("the command is empty")
    program = PurePosixPath(words[0]).name
    if program == "spark-submit":
        apps = [i for i, word in enumerate(words) if word.endswith(SPARK_APP)]
        if not apps:
            raise Unrecognised(f"spark-submit runs no {SPARK_APP}")
        rest, runner = list(words[apps[0] + 1 :]), "spark-submit"
    elif _PYTHON.match(program) and list(words[1:3]) == ["-m", "ingestion"]:
        rest, runner = list(words[3:]), "python"
    elif program == "ingest":
        rest, runner = list(words[1:]), "ingest"
    else:
        raise Unrecognised(f"`{program}` is not spark-submit, python -m ingestion or ingest")
    return Recognised(_config(rest, runner), runner, tuple(words), workdir, log_file)


def _config(rest: list[str], runner: str) -> str:
    if rest[:1] == ["run"]:
        rest = rest[1:]
    elif runner != "python":
        raise Unrecognised(f"{runner} is not given `run`")
    if len(rest) == 1 and rest[0].startswith("--config="):
        return rest[0].removeprefix("--config=")
    if len(rest) == 2 and rest[0] == "--config":
        return rest[1]
    raise Unrecognised(f"expected only `--config FILE` after `run`, found {shlex.join(rest)!r}")


def _split(words: Sequence[str]) -> list[list[str]]:
    parts: list[list[str]] = [[]]
    for word in words:
        if word in _SEPARATORS:
            parts.append([])
        else:
            parts[-1].append(word)
    return [part for part in parts if part]


def _redirections(words: Sequence[str]) -> tuple[list[str], str | None]:
    """The words without ``>> LOG``, ``> LOG`` and ``2>&1``; the log file, if any."""
    kept: list[str] = []
    log_file = None
    index = 0
    while index < len(words):
        word = words[index]
        if word in (">>", ">") and index + 1 < len(words):
            log_file, index = words[index + 1], index + 2
        elif word == "2" and words[index + 1 : index + 3] == [">&", "1"]:
            index += 3
        elif word in ("<", ">&"):
            raise Unrecognised(f"it redirects with `{word}`")
        else:
            kept.append(word)
            index += 1
    return kept, log_file


def _prefixes(words: Sequence[str]) -> list[str]:
    """The words without leading ``VAR=value`` and a ``flock [-n|-w N] LOCK`` prefix."""
    rest = list(words)
    while rest and _ASSIGNMENT.match(rest[0]):
        rest = rest[1:]
    if rest[:1] == ["flock"]:
        rest = rest[1:]
        while rest and rest[0].startswith("-"):
            rest = rest[2:] if rest[0] in ("-w", "--wait", "--timeout") else rest[1:]
        rest = rest[1:]  # the lock file
    return rest
