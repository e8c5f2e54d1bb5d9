"""The files a plan's spark-submit command references, and the plan's ``spark`` section.

:func:`referenced` lists the environment's ``spark.jars`` then ``spark.py_files`` (the
command's ``--jars`` and ``--py-files``); :func:`section` is what :mod:`ingestion.plan.render`
puts under the plan's ``spark`` key: the sha256 of the conf the command passes, and each file
with its sha256 from the environment's lock (:mod:`ingestion.config.sparklock`), ``null`` for a
file the lock does not hold (``reconcile validate`` reports it). A jar upgrade therefore shows
as a plan diff once the lock is updated. Pure: no file is read here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from ingestion.config.sparklock import SparkLock
from ingestion.plan import canonical

KINDS = ("jars", "py_files")


def referenced(spark: Mapping[str, Any]) -> list[str]:
    """Every file path ``spark`` (environment.yaml's ``spark``) names, once, in command order."""
    paths = [str(path) for kind in KINDS for path in spark.get(kind) or ()]
    return list(dict.fromkeys(paths))


def section(
    conf: Mapping[str, str], spark: Mapping[str, Any], lock: SparkLock | None
) -> dict[str, Any]:
    """The plan's ``spark`` section: the conf's checksum and every file's locked checksum."""
    files = [
        {"path": path, "sha256": lock.sha256(path) if lock else None} for path in referenced(spark)
    ]
    return {"conf_sha256": hashlib.sha256(canonical.compact(conf)).hexdigest(), "files": files}
