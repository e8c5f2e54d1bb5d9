"""The Spark session of a run: reused when one is active (spark-submit, tests), built otherwise.

Built sessions get the environment's master, jars and conf, then the job's memory and conf; every
session runs in UTC and writes Parquet timestamps as ``TIMESTAMP_MICROS`` (pyiceberg rejects INT96).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import Any

from pyspark.sql import SparkSession

REQUIRED = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
}


def conf(settings: Mapping[str, Any], data: Mapping[str, Any]) -> dict[str, str]:
    """Spark conf for a session built here (environment, then job, then the required keys)."""
    env_spark = settings.get("spark") or {}
    job_spark = data.get("spark") or {}
    merged: dict[str, str] = {"spark.ui.showConsoleProgress": "false"}
    if env_spark.get("jars"):
        merged["spark.jars"] = ",".join(env_spark["jars"])
    for key, option in (
        ("driver_memory", "spark.driver.memory"),
        ("executor_memory", "spark.executor.memory"),
    ):
        if job_spark.get(key):
            merged[option] = str(job_spark[key])
    for source in (env_spark.get("conf") or {}, job_spark.get("conf") or {}):
        merged.update({str(k): _text(v) for k, v in source.items()})
    merged.update(REQUIRED)
    return merged


def _text(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def get(settings: Mapping[str, Any], data: Mapping[str, Any], app_name: str) -> SparkSession:
    """The active session (with the required runtime conf), or a new one."""
    active = SparkSession.getActiveSession()
    if active is None and os.environ.get("PYSPARK_GATEWAY_PORT"):
        active = SparkSession.builder.getOrCreate()  # under spark-submit: its conf wins
    if active is not None:
        for key, value in REQUIRED.items():
            active.conf.set(key, value)
        return active
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # workers of the COPY fast path
    builder = SparkSession.builder.appName(app_name)
    builder = builder.master(str((settings.get("spark") or {}).get("master", "local[*]")))
    for key, value in conf(settings, data).items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark
