"""Render one job config into its orchestration plan (a plain, JSON-ready dict).

Pure and deterministic: the same config and environment always give the same plan; no clock,
no random ids, no I/O. Secrets never enter a plan: credentials stay references, and the plan
only names the references the job will resolve at run time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ingestion import __version__
from ingestion.config import durations
from ingestion.config.loader import Environment, JobConfig, schedule_id
from ingestion.config.modes import Mode
from ingestion.cron import entry
from ingestion.plan import canonical, sparkconf, sparkfiles
from ingestion.plan.gitstamp import GitStamp

FORMAT_VERSION = 1
SPARK_APP = "ingestion/entrypoints/spark_submit.py"
DEFAULT_WORKFLOW = "IngestionWorkflow"


def render(job: JobConfig, environment: Environment, git: GitStamp | None = None) -> dict[str, Any]:
    """The orchestration plan of ``job``; ``git`` adds the revision it was rendered from."""
    settings = environment.settings
    command = execution_command(job, settings)
    plan: dict[str, Any] = {
        "job": job.name,
        "environment": job.environment,
        "mode": job.mode.value,
        "owner": job.data.get("owner"),
        "schedule_id": schedule_id(job),
        "execution_command": command,
        "schedule": _schedule(job),
        "retries": _retries(job),
        "alerts": _alerts(job),
        job.mode.block: _mode_block(job, settings, command),
    }
    if job.data["runtime"]["orchestration"].get("adopt"):
        plan["adopt"] = True  # only when set: the plans of other jobs keep their digests
    if job.mode is Mode.PLAIN_CRON:
        plan["crontab_line"] = crontab_entry(plan, settings).text()
    if submits(job, settings):
        spark = settings.get("spark", {})
        plan["spark"] = sparkfiles.section(spark_conf(job, spark), spark, environment.spark_lock)
    plan["bookkeeping"] = _bookkeeping(job, environment, git)
    plan["bookkeeping"]["digest"] = canonical.digest(plan)
    return plan


def execution_command(job: JobConfig, settings: Mapping[str, Any]) -> list[str]:
    """The argv that runs the job: the mode's own ``command``, or spark-submit with its conf."""
    if submits(job, settings):
        return spark_submit(job, settings.get("spark", {}))
    own = job.block.get("command")
    return list(own) if own else ["ingest", "run", "--config", job.path]


def submits(job: JobConfig, settings: Mapping[str, Any]) -> bool:
    """Whether the job runs the spark-submit command rendered here (its plan then carries the
    checksums of that command's conf and files). Not when the environment names a warm Spark
    Connect engine (``spark.connect``): the job is then ``ingest run``, a client of it."""
    if (settings.get("spark") or {}).get("connect"):
        return False
    return not job.block.get("command") and job.mode is not Mode.KUBERNETES


def spark_submit(job: JobConfig, spark: Mapping[str, Any]) -> list[str]:
    resources = job.data.get("spark", {})
    argv = [
        str(spark.get("submit", "spark-submit")),
        "--master",
        str(spark.get("master", "local[*]")),
    ]
    if spark.get("deploy_mode"):
        argv += ["--deploy-mode", str(spark["deploy_mode"])]
    argv += ["--name", f"salam-{job.environment}-{job.name}"]
    for flag, key in (
        ("--driver-memory", "driver_memory"),
        ("--executor-memory", "executor_memory"),
        ("--executor-cores", "executor_cores"),
        ("--num-executors", "num_executors"),
    ):
        if key in resources:
            argv += [flag, str(resources[key])]
    conf = spark_conf(job, spark)
    for key in sorted(conf):
        argv += ["--conf", f"{key}={conf[key]}"]
    for flag, key in (("--jars", "jars"), ("--py-files", "py_files")):
        if spark.get(key):
            argv += [flag, ",".join(spark[key])]
    return [*argv, SPARK_APP, "run", "--config", job.path]


def spark_conf(job: JobConfig, spark: Mapping[str, Any]) -> dict[str, str]:
    """The conf spark-submit passes: the environment's, then the job's, then what runs need."""
    given = {**spark.get("conf", {}), **job.data.get("spark", {}).get("conf", {})}
    return sparkconf.required(given)


def _schedule(job: JobConfig) -> dict[str, Any]:
    block = job.block
    if job.mode.has_schedule_block:
        spec = block["schedule"]
        cron, zone = spec["cron"], spec.get("timezone", "UTC")
    else:
        spec = {}
        cron, zone = block["expression"], block.get("timezone", "UTC")
    schedule: dict[str, Any] = {"cron": cron, "timezone": zone}
    if job.mode is Mode.TEMPORAL:
        schedule["catchup_window_seconds"] = durations.seconds(spec.get("catchup_window", "1m"))
        schedule["overlap"] = spec.get("overlap", "skip")
        schedule["jitter_seconds"] = durations.seconds(spec.get("jitter", "0s"))
        schedule["paused"] = spec.get("paused")
    return schedule


def _retries(job: JobConfig) -> dict[str, int]:
    retries = {
        "count": 0,
        "delay_minutes": 0,
        **job.data.get("retries", {}),
        **job.block.get("retries", {}),
    }
    if job.mode is Mode.TEMPORAL and "retry_policy" in job.block:
        policy = job.block["retry_policy"]
        attempts = policy.get("maximum_attempts", 0)
        retries = {
            "count": max(attempts - 1, 0),
            "delay_minutes": policy.get("initial_interval_seconds", 60) // 60,
        }
    return {"count": int(retries["count"]), "delay_seconds": int(retries["delay_minutes"]) * 60}


def _alerts(job: JobConfig) -> dict[str, Any]:
    merged = {**job.data.get("alerts", {}), **job.block.get("alerts", {})}
    return {"email": sorted(merged.get("email", [])), "webhook": merged.get("webhook")}


def _mode_block(
    job: JobConfig, settings: Mapping[str, Any], command: Sequence[str]
) -> dict[str, Any]:
    block = job.block
    if job.mode is Mode.PLAIN_CRON:
        crontab = settings.get("crontab", {})
        return {
            "log_file": block.get("log_file"),
            "host_timezone": crontab.get("host_timezone", "UTC"),
        }
    if job.mode.hands_off:
        external = {
            "provider": block.get("provider", job.mode.value),
            "dag_id": block.get("dag_id") if job.mode is Mode.AIRFLOW else None,
        }
        if job.mode is Mode.AIRFLOW and block.get("dag_file"):
            # only when set: a plan without it keeps the digest it had before the setting
            external["dag_file"] = block["dag_file"]
        return external
    if job.mode is Mode.TEMPORAL:
        return _temporal_block(job, settings.get("temporal", {}))
    return _kubernetes_block(job, settings.get("kubernetes", {}))


def _temporal_block(job: JobConfig, cluster: Mapping[str, Any]) -> dict[str, Any]:
    """The seed's ``temporal`` block: where and what to start (the workflow's id is the
    schedule's: the config's ``workflow_id``, else ``salam-<env>-<job>``) and its retries."""
    block = job.block
    retries = _retries(job)
    policy = {
        "initial_interval_seconds": max(retries["delay_seconds"], 1),
        "maximum_interval_seconds": max(retries["delay_seconds"], 1) * 10,
        "maximum_attempts": retries["count"] + 1,
        "backoff_coefficient": 2.0,
        **block.get("retry_policy", {}),
    }
    return {
        "namespace": block.get("namespace", cluster.get("namespace")),
        "task_queue": block.get("task_queue", cluster.get("default_task_queue")),
        "workflow": block.get("workflow", DEFAULT_WORKFLOW),
        "workflow_id": schedule_id(job),
        "retry_policy": {key: policy[key] for key in sorted(policy)},
    }


def _kubernetes_block(job: JobConfig, cluster: Mapping[str, Any]) -> dict[str, Any]:
    block = job.block
    secret = block.get("credentials_secret")
    secret_env = (
        [
            {"name": var, "secret": secret, "key": key}
            for var, key in (("JDBC_USER", "user"), ("JDBC_PASSWORD", "password"))
        ]
        if secret
        else []
    )
    return {
        "namespace": block.get("namespace", cluster.get("namespace")),
        "image": block.get("image", cluster.get("image")),
        "service_account": block.get("service_account", cluster.get("service_account")),
        "concurrency_policy": block.get("concurrency_policy", "Forbid"),
        "starting_deadline_seconds": block.get("starting_deadline_seconds", 300),
        "suspend": block.get("suspend"),  # None: the config leaves suspend to operators
        "successful_jobs_history_limit": block.get("successful_jobs_history_limit", 3),
        "failed_jobs_history_limit": block.get("failed_jobs_history_limit", 3),
        "backoff_limit": _retries(job)["count"],
        "resources": block.get("resources", cluster.get("resources", {})),
        "secret_env": secret_env,
    }


def crontab_entry(
    plan: Mapping[str, Any], settings: Mapping[str, Any], workdir: str | None = None
) -> entry.CrontabEntry:
    """The crontab entry of a ``plain_cron`` plan: the plan's ``crontab_line`` is its text.

    ``settings`` is environment.yaml's content (``crontab`` section, ``workdir``); the crontab
    backend passes ``workdir`` and ``settings['crontab']['lock_dir']`` made absolute when they
    are configured relative to the project."""
    schedule = plan["schedule"]
    return entry.build(
        expression=str(schedule["cron"]),
        zone=str(schedule.get("timezone", "UTC")),
        settings=settings.get("crontab", {}),
        workdir=workdir or str(settings.get("workdir", ".")),
        job_id=f"{plan['environment']}-{plan['job']}",
        command=[str(arg) for arg in plan["execution_command"]],
        log_file=(plan.get("cron") or {}).get("log_file"),
    )


def _bookkeeping(job: JobConfig, environment: Environment, git: GitStamp | None) -> dict[str, Any]:
    bookkeeping: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "environment": job.environment,
        "job": job.name,
        "config_path": job.path,
        "config_sha256": job.sha256,
        "generator": f"salam {__version__}",
    }
    if git is not None:
        env_file = f"environments/{environment.name}/environment.yaml"
        bookkeeping["git_revision"] = git.revision
        bookkeeping["git_dirty"] = git.dirty(job.path, env_file)
    return bookkeeping
