"""The Spark session of a run: reused when one is active (spark-submit, tests), built otherwise.

Built sessions get the environment's master, jars, py-files and conf, then the job's memory and
conf, with what every run needs (:mod:`ingestion.plan.sparkconf`, which the plan's spark-submit
command carries too): every session runs in UTC and writes Parquet timestamps as
``TIMESTAMP_MICROS``.

UTC means the JVMs too, not only Spark's session zone: the JDBC drivers turn a ``timestamp``
(no zone) into an instant in the JVM's default zone, so a driver or an executor started on a host
with ``TZ=America/Los_Angeles`` shifts those values by the host's offset (and moves a wall-clock
time in a DST gap). A built session therefore starts its driver and executors with
``-Duser.timezone=UTC`` (appended to the user's ``extraJavaOptions``, never replacing them) and
``TZ=UTC`` in the executors' environment, and this process runs in UTC. A session started
elsewhere (spark-submit, an active one) cannot be changed: :func:`check_utc` refuses it, naming the
options to add, when its driver or an executor it reaches is not in UTC.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Mapping
from typing import Any

from pyspark.sql import SparkSession

from ingestion.job.errors import JobError, RunExit
from ingestion.plan import sparkconf

UTC_ZONE = sparkconf.UTC_ZONE
_ZONE_PROBE = "reflect('java.time.ZoneId', 'systemDefault') AS zone"


def conf(settings: Mapping[str, Any], data: Mapping[str, Any]) -> dict[str, str]:
    """Spark conf for a session built here (environment, then job, then the required keys)."""
    env_spark = settings.get("spark") or {}
    job_spark = data.get("spark") or {}
    merged: dict[str, object] = {"spark.ui.showConsoleProgress": "false"}
    for key, option in (("jars", "spark.jars"), ("py_files", "spark.submit.pyFiles")):
        if env_spark.get(key):
            merged[option] = ",".join(env_spark[key])
    for key, option in (
        ("driver_memory", "spark.driver.memory"),
        ("executor_memory", "spark.executor.memory"),
    ):
        if job_spark.get(key):
            merged[option] = str(job_spark[key])
    for source in (env_spark.get("conf") or {}, job_spark.get("conf") or {}):
        merged.update(source)
    return sparkconf.required(merged)


def get(settings: Mapping[str, Any], data: Mapping[str, Any], app_name: str) -> SparkSession:
    """The active session (with the required runtime conf, checked to run in UTC), or a new one."""
    _process_in_utc()
    active = SparkSession.getActiveSession()
    if active is None and os.environ.get("PYSPARK_GATEWAY_PORT"):
        active = SparkSession.builder.getOrCreate()  # under spark-submit: its conf wins
    if active is not None:
        return checked(active)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # workers of the COPY fast path
    builder = SparkSession.builder.appName(app_name)
    builder = builder.master(str((settings.get("spark") or {}).get("master", "local[*]")))
    for key, value in conf(settings, data).items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return checked(spark)


def checked(spark: SparkSession) -> SparkSession:
    """``spark`` with the required runtime conf, once its JVMs are known to run in UTC."""
    for key, value in sparkconf.RUNTIME.items():
        spark.conf.set(key, value)
    check_utc(spark)
    return spark


def _process_in_utc() -> None:
    """This process (and the JVM and Python workers it starts) in UTC."""
    os.environ["TZ"] = UTC_ZONE
    time.tzset()


def check_utc(spark: SparkSession) -> None:
    """Refuse a session whose driver JVM, or an executor JVM it reaches, is not in UTC."""
    jvm = spark.sparkContext._jvm
    assert jvm is not None
    zones = [("driver", str(jvm.java.time.ZoneId.systemDefault().getId()))]
    if not str(spark.sparkContext.master).startswith("local"):  # local executors are the driver
        slices = max(2, spark.sparkContext.defaultParallelism)
        probe = spark.range(0, slices, 1, slices).selectExpr(_ZONE_PROBE).distinct()
        zones += [("executor", str(row.zone)) for row in probe.collect()]
    utc = jvm.java.util.TimeZone.getTimeZone(UTC_ZONE)
    wrong = [
        f"{where} {zone}"
        for where, zone in zones
        if not jvm.java.util.TimeZone.getTimeZone(zone).hasSameRules(utc)
    ]
    if wrong:
        raise JobError(
            "session",
            f"the Spark JVMs must run in UTC, not in the host's zone ({'; '.join(wrong)}): "
            "timestamps without a zone would be shifted",
            "start them in UTC: --conf spark.driver.extraJavaOptions=-Duser.timezone=UTC "
            "--conf spark.executor.extraJavaOptions=-Duser.timezone=UTC "
            "(or spark.conf in environment.yaml), or TZ=UTC in their environment",
            RunExit.INVALID,
        )
