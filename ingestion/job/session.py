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

With ``spark.connect`` set the run is a client of a warm Spark Connect server
(:mod:`ingestion.job.connect`): no JVM here, so the zones are read with a SQL ``reflect`` query
and the parallelism from the server's conf (:func:`parallelism`), never from a ``SparkContext``.
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from ingestion.job import connect
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


def get(
    settings: Mapping[str, Any],
    data: Mapping[str, Any],
    app_name: str,
    marker: Path | None = None,
) -> SparkSession:
    """The active session (with the required runtime conf, checked to run in UTC), or a new one;
    a remote one when ``spark.connect`` is set (``marker``: see :func:`connect.remote`)."""
    _process_in_utc()
    url = connect.url_of(settings)
    if url:
        remote = connect.remote(url, marker)
        try:
            return checked(remote, data)
        except BaseException:
            connect.close(remote, marker)  # a refused session is not left open on the server
            raise
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


def checked(spark: SparkSession, data: Mapping[str, Any] | None = None) -> SparkSession:
    """``spark`` with the required runtime conf, once its JVMs are known to run in UTC.

    A remote session also gets the job's ``spark.conf`` SQL keys (the server's JVM and its
    other conf are the engine's, shared by every run)."""
    settings = dict(sparkconf.RUNTIME)
    if connect.is_remote(spark):
        job_conf = ((data or {}).get("spark") or {}).get("conf") or {}
        given = {k: sparkconf.text(v) for k, v in job_conf.items() if k.startswith("spark.sql.")}
        settings = given | settings
    for key, value in settings.items():
        spark.conf.set(key, value)
    check_utc(spark)
    return spark


def parallelism(spark: SparkSession) -> int:
    """The session's default parallelism, under Spark Connect too (no ``SparkContext`` there)."""
    if not connect.is_remote(spark):
        return int(spark.sparkContext.defaultParallelism)
    given = spark.conf.get("spark.default.parallelism", None)
    if given:
        return int(given)
    master = str(spark.conf.get("spark.master", None) or "")
    found = re.fullmatch(r"local\[(\d+)(,\d+)?\]", master)
    if found:
        return int(found.group(1))
    if master == "local":
        return 1
    tasks = spark.range(0, 1000).select(F.spark_partition_id().alias("p")).distinct()
    return max(1, tasks.count())


def _process_in_utc() -> None:
    """This process (and the JVM and Python workers it starts) in UTC."""
    os.environ["TZ"] = UTC_ZONE
    time.tzset()


def check_utc(spark: SparkSession) -> None:
    """Refuse a session whose driver JVM, or an executor JVM it reaches, is not in UTC."""
    if connect.is_remote(spark):
        _refuse_outside_utc(_remote_zones(spark), _same_as_utc)
        return
    jvm = spark.sparkContext._jvm
    assert jvm is not None
    zones = [("driver", str(jvm.java.time.ZoneId.systemDefault().getId()))]
    if not str(spark.sparkContext.master).startswith("local"):  # local executors are the driver
        slices = max(2, spark.sparkContext.defaultParallelism)
        probe = spark.range(0, slices, 1, slices).selectExpr(_ZONE_PROBE).distinct()
        zones += [("executor", str(row.zone)) for row in probe.collect()]
    utc = jvm.java.util.TimeZone.getTimeZone(UTC_ZONE)
    zone_of = jvm.java.util.TimeZone.getTimeZone
    _refuse_outside_utc(zones, lambda zone: zone_of(zone).hasSameRules(utc))


def _remote_zones(spark: SparkSession) -> list[tuple[str, str]]:
    """The zones of a Spark Connect server's driver and (off ``local``) executors, by SQL."""
    zones = [("driver", str(row.zone)) for row in spark.sql(f"SELECT {_ZONE_PROBE}").collect()]
    if not str(spark.conf.get("spark.master", None) or "local").startswith("local"):
        slices = max(2, parallelism(spark))
        probe = spark.range(0, slices, 1, slices).selectExpr(_ZONE_PROBE).distinct()
        zones += [("executor", str(row.zone)) for row in probe.collect()]
    return zones


def _same_as_utc(zone: str) -> bool:
    """Whether a JVM zone id keeps UTC's rules (offset 0 in every season, as far as we sample)."""
    try:
        info = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        return zone in ("Z", "UTC", "GMT")
    years, months = (1970, 2000, 2025), (1, 7)
    samples = (datetime(year, month, 1, tzinfo=info) for year in years for month in months)
    return all(moment.utcoffset() == timedelta(0) for moment in samples)


def _refuse_outside_utc(zones: list[tuple[str, str]], is_utc: Callable[[str], Any]) -> None:
    wrong = [f"{where} {zone}" for where, zone in zones if not is_utc(zone)]
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
