"""The Spark conf every run of a job carries, whoever starts its JVMs.

The plan's spark-submit command (:mod:`ingestion.plan.render`) and a session the job builds
itself (:mod:`ingestion.job.session`) both take the environment's and the job's ``spark.conf``
through :func:`required`: Spark's session zone UTC, Parquet timestamps as ``TIMESTAMP_MICROS``
(pyiceberg rejects INT96), and the driver and executor JVMs in UTC (``-Duser.timezone=UTC``
appended to the user's ``extraJavaOptions``, any other ``user.timezone`` removed, and ``TZ=UTC``
in the executors' environment) — so a scheduled run on a host outside UTC neither shifts
``timestamp`` values nor is refused by the job's UTC check.
"""

from __future__ import annotations

from collections.abc import Mapping

UTC_ZONE = "UTC"
UTC_OPTION = f"-Duser.timezone={UTC_ZONE}"
JAVA_OPTIONS = ("spark.driver.extraJavaOptions", "spark.executor.extraJavaOptions")
RUNTIME = {  # also settable on a running session
    "spark.sql.session.timeZone": UTC_ZONE,
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
}


def required(conf: Mapping[str, object]) -> dict[str, str]:
    """``conf`` as Spark's text (``true``/``false`` for booleans), with every key a run needs
    set as it needs it."""
    merged = {str(key): text(value) for key, value in conf.items()} | RUNTIME
    for key in JAVA_OPTIONS:
        merged[key] = in_utc(merged.get(key, ""))
    merged["spark.executorEnv.TZ"] = UTC_ZONE
    return merged


def in_utc(java_options: str) -> str:
    """``java_options`` with the JVM's zone set to UTC (any other ``user.timezone`` removed)."""
    kept = [o for o in java_options.split() if not o.startswith("-Duser.timezone=")]
    return " ".join([*kept, UTC_OPTION])


def text(value: object) -> str:
    """A conf value as Spark reads it."""
    return str(value).lower() if isinstance(value, bool) else str(value)
