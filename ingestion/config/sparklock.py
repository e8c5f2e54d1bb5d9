"""The Spark lock: ``environments/<env>/spark.lock``, the checksums of the files an environment's
spark-submit commands reference (``spark.jars``, ``spark.py_files``).

Terraform's ``.terraform.lock.hcl`` is the model: ``reconcile lock --env E`` writes it
(:func:`dumps`), it is committed beside ``environment.yaml``, the loader reads it
(:func:`from_doc`) so every plan carries each file's locked sha256
(:mod:`ingestion.plan.sparkfiles`), and ``reconcile validate`` compares it with the files on the
machine (:mod:`reconciler.checksums`). Shape::

    version: 1
    files:
      /usr/share/java/postgresql.jar:
        sha256: e68b1536…

An environment without a lock has an empty one (every file is then unlocked, which validate
reports); a lock that breaks its schema (``spark-lock.schema.json``) is a located diagnostic and
reads as an empty, ``broken`` one (its files are then not checked one by one: the lock is what to
fix, or to write again).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import yaml

from ingestion.config import schema
from ingestion.config.diagnostics import Diagnostic, Location
from ingestion.config.yamlsource import SourceDoc

LOCK_FILE = "spark.lock"
VERSION = 1
HEADER = """\
# The sha256 of every Spark file (spark.jars, spark.py_files) environment '{env}' references.
# Written by `reconcile lock --env {env}`: do not edit by hand. Commit it with the plans it
# changes (`reconcile render --env {env}`); `reconcile validate` fails when a file differs.
"""


@dataclass(frozen=True)
class SparkLock:
    """A lock as read: ``file`` (as diagnostics name it), path → sha256, and whether the file
    was there but unusable."""

    file: str
    checksums: Mapping[str, str] = field(default_factory=dict)
    doc: SourceDoc | None = field(default=None, compare=False, repr=False)
    broken: bool = False

    def sha256(self, path: str) -> str | None:
        """The locked sha256 of ``path``, None when the lock has no entry for it."""
        return self.checksums.get(path)

    def locate(self, path: str | None = None) -> Location:
        """Where the entry of ``path`` is written (the lock itself without one)."""
        if self.doc is None:
            return Location(self.file)
        return self.doc.locate(("files", path) if path is not None else ())


def from_doc(doc: SourceDoc) -> tuple[SparkLock, list[Diagnostic]]:
    """The lock in ``doc``, or an empty one with the schema's diagnostics."""
    found = schema.validate(doc, schema.SPARK_LOCK)
    if found:
        return SparkLock(doc.file, broken=True), found
    files = doc.data["files"]
    return SparkLock(doc.file, {str(p): str(e["sha256"]) for p, e in files.items()}, doc), []


def dumps(env: str, checksums: Mapping[str, str]) -> str:
    """The lock file's text: a header, then the entries sorted by path."""
    files = {path: {"sha256": checksums[path]} for path in sorted(checksums)}
    body = yaml.safe_dump({"version": VERSION, "files": files}, sort_keys=False, width=1000)
    return HEADER.format(env=env) + body
