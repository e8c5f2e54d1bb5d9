"""Plan → canonical CronJob spec → ``batch/v1`` CronJob manifest (pure data, no client).

The canonical spec is flat and names the fields Salam owns with their Kubernetes names
(``schedule``, ``timeZone``, ``suspend``, ``image``, ``env`` …); it holds everything needed to
recreate the CronJob, so a rollback can re-apply a live resource's spec. Every field is rendered
explicitly (no server default is relied upon), so a hand-set value shows as drift — except
``suspend`` when the job config does not set it: the desired spec then holds ``None`` and the
diff keeps the live value, so an operator's suspend stays (as a Temporal pause does). The
``configured-suspend`` annotation tells an operator's suspend from Salam's: ``true`` when the
config suspends it, ``false`` when it does not, and kept as it is while the config does not say
(as a Temporal pause keeps its note). Names are DNS-1123 labels derived from (environment, job),
shortened with a hash suffix when too long.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any

from reconciler.model import DesiredResource, ResourceKey

BACKEND = "kubernetes"
MANAGED_BY = "app.kubernetes.io/managed-by"
MANAGER = "salam"
ENVIRONMENT_LABEL = "salam.io/environment"
JOB_LABEL = "salam.io/job"
DIGEST = "salam.io/digest"
REVISION = "salam.io/revision"
CONFIG_PATH = "salam.io/config-path"
CONFIGURED_SUSPEND = "salam.io/configured-suspend"
SUSPEND_META = "configured_suspend"  # "true" / "false"; not in a desired meta: kept as live
MOVE_SUSPEND = "move"  # suspended by a move between schedulers until its switch (reconciler.move)
META_ANNOTATIONS = {
    "digest": DIGEST,
    "revision": REVISION,
    "config_path": CONFIG_PATH,
    SUSPEND_META: CONFIGURED_SUSPEND,
}
CONTAINER = "ingest"
# A CronJob's Jobs are named <cronjob>-<11 chars>, and must stay within 63 characters.
MAX_NAME = 52
_HASH_CHARS = 8


def cronjob_name(environment: str, job: str) -> str:
    """The DNS-1123 name of (environment, job)'s CronJob: ``salam-<env>-<job>``, hashed if long."""
    base = re.sub(r"[^a-z0-9]+", "-", f"salam-{environment}-{job}".lower()).strip("-")
    if len(base) <= MAX_NAME:
        return base
    digest = hashlib.sha256(f"{environment}/{job}".encode()).hexdigest()[:_HASH_CHARS]
    return f"{base[: MAX_NAME - _HASH_CHARS - 1].rstrip('-')}-{digest}"


def labels(environment: str, job: str) -> dict[str, str]:
    return {MANAGED_BY: MANAGER, ENVIRONMENT_LABEL: environment, JOB_LABEL: job}


def selector(environment: str) -> str:
    """The label selector of every CronJob Salam owns in ``environment``."""
    return f"{MANAGED_BY}={MANAGER},{ENVIRONMENT_LABEL}={environment}"


def canonical_spec(plan: Mapping[str, Any]) -> dict[str, Any]:
    """The canonical spec of one ``kubernetes``-mode plan."""
    block = plan["kubernetes"]
    return {
        "schedule": plan["schedule"]["cron"],
        "timeZone": plan["schedule"]["timezone"],
        "suspend": _configured(block),
        "concurrencyPolicy": block["concurrency_policy"],
        "startingDeadlineSeconds": block["starting_deadline_seconds"],
        "successfulJobsHistoryLimit": block["successful_jobs_history_limit"],
        "failedJobsHistoryLimit": block["failed_jobs_history_limit"],
        "backoffLimit": block["backoff_limit"],
        "restartPolicy": "Never",
        "serviceAccountName": block["service_account"],
        "image": block["image"],
        "command": list(plan["execution_command"]),
        "env": [
            {"name": e["name"], "secret": e["secret"], "key": e["key"]} for e in block["secret_env"]
        ],
        "resources": _resources(block.get("resources") or {}),
    }


def desired(plan: Mapping[str, Any]) -> DesiredResource:
    """The desired resource of one plan: key, canonical spec and bookkeeping meta."""
    book = plan["bookkeeping"]
    name = cronjob_name(plan["environment"], plan["job"])
    key = ResourceKey(BACKEND, plan["kubernetes"]["namespace"], name)
    meta = {
        "digest": str(book.get("digest", "")),
        "revision": str(book.get("git_revision", "")),
        "config_path": str(book.get("config_path", "")),
    }
    suspend = _configured(plan["kubernetes"])
    if suspend is not None:
        meta[SUSPEND_META] = "true" if suspend else "false"
    return DesiredResource(key, plan["job"], canonical_spec(plan), meta)


def manifest(resource: DesiredResource, environment: str) -> dict[str, Any]:
    """The full CronJob manifest that :func:`normalize.canonical` maps back to ``resource.spec``;
    without Salam's labels and annotations for a resource that is not to be Salam's (a restore
    giving an adopted CronJob back)."""
    spec = resource.spec
    owned = labels(environment, resource.job) if resource.owned else {}
    template = {
        "metadata": {"labels": owned},
        "spec": _drop_none(
            {
                "restartPolicy": spec.get("restartPolicy", "Never"),
                "serviceAccountName": spec.get("serviceAccountName"),
                "containers": [_container(spec)],
            }
        ),
    }
    job_spec = {"backoffLimit": spec.get("backoffLimit"), "template": template}
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {
            "name": resource.key.name,
            "namespace": resource.key.scope,
            "labels": owned,
            "annotations": owner_annotations(resource) if resource.owned else {},
        },
        "spec": _drop_none(
            {
                "schedule": spec["schedule"],
                "timeZone": spec.get("timeZone"),
                "suspend": bool(spec.get("suspend")),  # None (unset, nothing live): running
                "concurrencyPolicy": spec.get("concurrencyPolicy"),
                "startingDeadlineSeconds": spec.get("startingDeadlineSeconds"),
                "successfulJobsHistoryLimit": spec.get("successfulJobsHistoryLimit"),
                "failedJobsHistoryLimit": spec.get("failedJobsHistoryLimit"),
                "jobTemplate": {"metadata": {"labels": owned}, "spec": _drop_none(job_spec)},
            }
        ),
    }


def owner_annotations(resource: DesiredResource) -> dict[str, str]:
    """Bookkeeping annotations, with whether Salam suspended it (to tell an operator's pause)."""
    found = {META_ANNOTATIONS[k]: str(v) for k, v in resource.meta.items() if k in META_ANNOTATIONS}
    found.setdefault(CONFIGURED_SUSPEND, "false")
    return found


def _configured(block: Mapping[str, Any]) -> bool | None:
    """The job config's ``suspend``: None when it does not say (an operator's choice is kept)."""
    value = block.get("suspend")
    return None if value is None else bool(value)


def _container(spec: Mapping[str, Any]) -> dict[str, Any]:
    env = [_env_var(item) for item in spec.get("env", ()) if "value_sha256" not in item]
    return _drop_none(
        {
            "name": CONTAINER,
            "image": spec.get("image"),
            "command": list(spec.get("command") or []) or None,
            "env": env or None,
            "resources": dict(spec.get("resources") or {}) or None,
        }
    )


def _env_var(item: Mapping[str, Any]) -> dict[str, Any]:
    if "secret" in item:
        ref = {"name": item["secret"], "key": item["key"]}
        return {"name": item["name"], "valueFrom": {"secretKeyRef": ref}}
    return {"name": item["name"], "valueFrom": dict(item.get("valueFrom", {}))}


def _resources(resources: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    return {
        kind: {name: str(q) for name, q in sorted(values.items())}
        for kind, values in sorted(resources.items())
        if values
    }


def _drop_none(mapping: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in mapping.items() if value is not None}
