"""Errors of the ingestion job, each named by its stage, and the ``ingest run`` exit codes.

Exit codes (``ingest run`` / ``python -m ingestion --config``):

* ``0``  the run committed (or had nothing to do: the run id was already committed);
* ``1``  terminal failure: a missing table, a schema break, an unexpected error — a retry
  will fail the same way;
* ``3``  invalid configuration: the job config, a secret reference, the lake settings, or a
  user name or password the database refuses (a retry resolves the same secret);
* ``75`` transient failure (``EX_TEMPFAIL``): the source or the catalog is unreachable or
  timed out — worth a retry.
"""

from __future__ import annotations

import enum
import os
import re
import traceback
from collections.abc import Iterable
from urllib.parse import quote


class RunExit(enum.IntEnum):
    OK = 0
    FAILED = 1
    INVALID = 3
    TRANSIENT = 75


HELP = (
    "Exit codes of `run`: 0 committed (or already committed), 1 terminal failure "
    "(missing table, schema break), 3 invalid config or secret reference, "
    "75 transient failure (source unreachable or timed out: retry)."
)


class JobError(Exception):
    """A failure of one stage, with a hint; ``code`` says whether a retry can help."""

    def __init__(self, stage: str, message: str, hint: str = "", code: RunExit = RunExit.FAILED):
        super().__init__(message)
        self.stage = stage
        self.message = message
        self.hint = hint
        self.code = code

    @property
    def transient(self) -> bool:
        return self.code == RunExit.TRANSIENT

    def describe(self) -> dict[str, object]:
        """The error as data (the FAIL event's ``salam`` facet, ``ingest run --json``)."""
        return {
            "stage": self.stage,
            "message": self.message,
            "hint": self.hint,
            "transient": self.transient,
            "exit_code": int(self.code),
        }

    def render(self) -> str:
        kind = "transient" if self.transient else "terminal"
        text = f"error [{self.stage}] ({kind}): {self.message}"
        return f"{text}\n  hint: {self.hint}" if self.hint else text


_TRANSIENT = re.compile(
    r"connection refused|connection attempt failed|could not connect|connect timed out"
    r"|sockettimeout|timed out|timeout|connection reset|broken pipe|no route to host"
    r"|unknownhost|too many connections|the database system is (starting up|shutting down)"
    r"|sqlstate[^a-z0-9]*(08|53|57p0)|database is locked|sqlite_busy"
    r"|communications link failure|i/o error|couldn.t connect|failed_jdbc\.connection"
    r"|commitfailedexception|requirement failed: .*has changed",
    re.IGNORECASE,
)
_MISSING = re.compile(
    r"(relation|table|view) \S+ does not exist|no such table|doesn't exist|ora-00942"
    r"|no such column|column \S+ does not exist|unknown column"
    r"|database \S+ does not exist|authentication failed|unknown database",
    re.IGNORECASE,
)


_REFUSED_CREDENTIALS = re.compile(
    r"password authentication failed|sqlstate[^a-z0-9]*28(p01|000)|\b28P01\b"
    r"|access denied for user|error(code)?[^a-z0-9]*1045\b|no password (was )?(provided|supplied)",
    re.IGNORECASE,
)
_CREDENTIAL_KEYS = {"lake": "lake.catalog.user / lake.catalog.password_ref"}


def is_transient(text: str) -> bool:
    return bool(_TRANSIENT.search(text)) and not _MISSING.search(text)


_DRIVER_ERROR = re.compile(r"(SQL\w*Exception|ORA-\d+|SQLITE_\w+)[:\]]")


def first_line(text: str, limit: int = 400) -> str:
    """The most telling line of a (Java) error: the database driver's message if there is one."""
    lines = [
        line.strip()
        for line in text.splitlines()
        if line.strip() and not line.strip().startswith("at ")
    ]
    for line in lines:
        if _DRIVER_ERROR.search(line):
            return line.removeprefix("Caused by: ").removeprefix(": ")[:limit]
    for line in lines:
        if (
            "Exception:" in line or "Error:" in line
        ) and "An error occurred while calling" not in line:
            return line.removeprefix("Caused by: ").removeprefix(": ")[:limit]
    return (lines[0] if lines else text)[:limit]


def full_text(exc: BaseException) -> str:
    """The exception's message with its Java causes (pyspark keeps the Java throwable)."""
    parts = [f"{type(exc).__name__}: {exc}"]
    origin = getattr(exc, "_origin", None) or getattr(exc, "java_exception", None)
    depth = 0
    while origin is not None and depth < 10:
        try:
            parts.append(f"Caused by: {origin.toString()}")
            origin = origin.getCause()
        except Exception:
            break
        depth += 1
    return "\n".join(parts)


_REMEMBERED: set[str] = set()


def remember_secret(value: str) -> None:
    """Note a resolved secret: :func:`redact` removes it from every text from now on."""
    _REMEMBERED.add(value)


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every resolved secret (``secrets`` and those remembered) as ``***``."""
    for secret in sorted({*secrets, *_REMEMBERED}, key=len, reverse=True):
        if secret and len(secret) >= 3:
            text = text.replace(secret, "***").replace(quote(secret, safe=""), "***")
    return text


def from_exception(
    stage: str, exc: BaseException, secrets: Iterable[str], hint: str = ""
) -> JobError:
    """Classify an exception raised by Spark, JDBC or the catalog into a :class:`JobError`."""
    if isinstance(exc, JobError):
        return exc
    if os.environ.get("SALAM_DEBUG"):
        traceback.print_exception(exc)
    raw = full_text(exc)
    text = redact(first_line(raw), secrets)
    if _REFUSED_CREDENTIALS.search(raw):
        return refused_credentials(stage, text)
    if is_transient(raw):
        return JobError(
            stage, text, hint or "the source or lake is unreachable; retry later", RunExit.TRANSIENT
        )
    if _MISSING.search(raw):
        return JobError(stage, text, hint or "check the table and column names in the job config")
    return JobError(stage, text, hint)


def refused_credentials(stage: str, text: str) -> JobError:
    """The database refused the user or password (PostgreSQL 28P01 / 28000, MySQL 1045): invalid
    configuration (exit 3), since a retry resolves the same secret and fails the same way."""
    keys = _CREDENTIAL_KEYS.get(stage, "source.user / source.password_ref")
    return JobError(
        stage,
        f"the database refused the user name or password: {text}",
        f"check {keys} and the secret the reference points to (a retry will not help until "
        "the secret or the user is fixed)",
        RunExit.INVALID,
    )
