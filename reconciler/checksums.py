"""The Spark files on this machine against the environment's lock (``spark.lock``).

``reconcile lock`` calls :func:`measure_all` to write the lock; ``reconcile validate`` calls
:func:`check` (through :mod:`reconciler.validation`), which returns one diagnostic per problem,
all at once, each located in the lock:

- a file ``environment.yaml`` references (``spark.jars``, ``spark.py_files``) that the lock does
  not hold: error;
- a locked file whose sha256 differs from the lock: error, naming both checksums;
- a locked file this machine cannot read (absent, unreadable, or a remote URL such as
  ``hdfs://``): an error by default, a warning where the environment sets
  ``spark.unreadable_files: warning`` (its files exist only on the Spark submit host, which then
  checks them itself). An unverifiable file is never silently a pass;
- a lock entry nothing references any more: warning.

A broken lock (the loader has located why) gives nothing more here: it is what to fix.

A relative path is read from the project root (a job's spark-submit runs in the environment's
``workdir``, a checkout of the project). Reading a file is the only I/O.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingestion.config import loader
from ingestion.config.diagnostics import Diagnostic, Severity
from ingestion.config.loader import Environment
from ingestion.config.sparklock import SparkLock
from ingestion.plan import sparkfiles

URL_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
FILE_SCHEME = re.compile(r"^file:(//)?")


@dataclass(frozen=True)
class Measured:
    """One referenced file as found here: its sha256, or why it could not be read."""

    path: str
    sha256: str | None
    reason: str = ""


def measure(root: Path, reference: str) -> Measured:
    """The sha256 of the file ``reference`` names (a path, or a ``file:`` URL)."""
    local = FILE_SCHEME.sub("", reference)
    if URL_SCHEME.match(local):
        return Measured(reference, None, "a remote URL, not a file on this machine")
    try:
        with (root / local).open("rb") as handle:
            return Measured(reference, hashlib.file_digest(handle, "sha256").hexdigest())
    except OSError as exc:
        return Measured(reference, None, exc.strerror or type(exc).__name__)


def measure_all(environment: Environment) -> list[Measured]:
    """Every file the environment references, measured, in command order."""
    spark = environment.settings.get("spark", {})
    return [measure(environment.root, path) for path in sparkfiles.referenced(spark)]


def lock_command(env: str) -> str:
    """What to run to write the lock, then the plans that carry it."""
    return f"reconcile lock --env {env} && reconcile render --env {env}"


def check(environment: Environment) -> list[Diagnostic]:
    """Every difference between the referenced files, the lock, and the files here."""
    lock = loader.spark_lock(environment)
    if lock.broken:
        return []
    spark: Mapping[str, Any] = environment.settings.get("spark", {})
    unreadable = Severity(spark.get("unreadable_files", Severity.ERROR.value))
    found = [
        problem
        for measured in measure_all(environment)
        for problem in _problems(measured, lock, environment.name, unreadable)
    ]
    return found + list(_unused(lock, sparkfiles.referenced(spark), environment.name))


def _problems(
    measured: Measured, lock: SparkLock, env: str, unreadable: Severity
) -> Iterator[Diagnostic]:
    locked = lock.sha256(measured.path)
    where, path = lock.locate(measured.path), f"$.files[{measured.path!r}]"
    hint = (
        f"if the change is intended, run `{lock_command(env)}` and commit {lock.file} and the plans"
    )
    if locked is None:
        summary = f"{measured.path} is referenced by spark settings but not in the lock"
        yield Diagnostic("spark-file-not-locked", summary, where, "$.files", hint)
    elif measured.sha256 is None:
        summary = f"{measured.path} cannot be checked on this machine: {measured.reason}"
        hint = "run on a machine that has the file, or set spark.unreadable_files: warning"
        yield Diagnostic("spark-file-unreadable", summary, where, path, hint, unreadable)
    elif measured.sha256 != locked:
        summary = f"{measured.path} has changed: expected sha256 {locked}, found {measured.sha256}"
        yield Diagnostic("spark-file-checksum-mismatch", summary, where, path, hint)


def _unused(lock: SparkLock, referenced: list[str], env: str) -> Iterator[Diagnostic]:
    for path in sorted(set(lock.checksums) - set(referenced)):
        summary = f"{path} is locked but no spark setting references it"
        hint = f"run `{lock_command(env)}` to drop it"
        yield Diagnostic(
            "spark-lock-unused",
            summary,
            lock.locate(path),
            f"$.files[{path!r}]",
            hint,
            Severity.WARNING,
        )
