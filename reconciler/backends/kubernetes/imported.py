"""A CronJob without Salam's labels, as ``reconcile import`` reads it: the job config's
``runtime.orchestration`` that renders the same CronJob, and the argv its container runs.

The backend's ``unmanaged`` calls :func:`unmanaged` with each unlabelled CronJob of the
configured namespace. Schedule, zone, suspend, concurrency policy, starting deadline, history
limits, image, service account, resources and a JDBC credentials Secret are carried over; the
argv is the ``command`` and ``args`` of the container named ``ingest`` (or of the only one). A
CronJob is adopted under its own name only: Salam names a job's CronJob ``salam-<env>-<job>``
(``key_of``), so ``reconcile import`` reports one named otherwise instead of writing a job whose
CronJob would be a second one beside it.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from reconciler.backends.base import Unmanaged
from reconciler.backends.kubernetes import normalize, render
from reconciler.model import ResourceKey

Json = Mapping[str, Any]
_OPTIONAL = {
    "serviceAccountName": "service_account",
    "startingDeadlineSeconds": "starting_deadline_seconds",
    "resources": "resources",
}


def unmanaged(obj: Json, environment: str) -> Unmanaged:
    namespace, name = obj["metadata"]["namespace"], obj["metadata"]["name"]
    key = ResourceKey(render.BACKEND, namespace, name)
    named = functools.partial(_key_of, namespace, environment)
    container = _container(obj)
    if container is None:
        return Unmanaged(key, problem="it has several containers, none named `ingest`")
    argv = tuple(
        str(w) for w in [*(container.get("command") or []), *(container.get("args") or [])]
    )
    spec = normalize.canonical(obj)
    block = {
        "schedule": {"cron": spec["schedule"], "timezone": spec["timeZone"] or "UTC"},
        "namespace": namespace,
        "image": container.get("image"),
        "suspend": bool(spec["suspend"]),
        "concurrency_policy": spec["concurrencyPolicy"],
        "successful_jobs_history_limit": spec["successfulJobsHistoryLimit"],
        "failed_jobs_history_limit": spec["failedJobsHistoryLimit"],
        **{ours: spec[theirs] for theirs, ours in _OPTIONAL.items() if spec.get(theirs)},
    }
    secret = _credentials(spec["env"])
    if secret:
        block["credentials_secret"] = secret
    return Unmanaged(key, {"mode": "kubernetes", "kubernetes": block}, argv=argv, key_of=named)


def _key_of(namespace: str, environment: str, job: str) -> ResourceKey:
    return ResourceKey(render.BACKEND, namespace, render.cronjob_name(environment, job))


def _container(obj: Json) -> Json | None:
    spec = ((obj.get("spec") or {}).get("jobTemplate") or {}).get("spec") or {}
    containers = list(((spec.get("template") or {}).get("spec") or {}).get("containers") or [])
    named = [c for c in containers if c.get("name") == render.CONTAINER]
    return (named or containers)[0] if len(named or containers) == 1 else None


def _credentials(env: list[Json]) -> str | None:
    """The Secret both JDBC_USER and JDBC_PASSWORD come from, as Salam renders them."""
    found = {e.get("name"): e for e in env if isinstance(e, Mapping)}
    user, password = found.get("JDBC_USER") or {}, found.get("JDBC_PASSWORD") or {}
    if user.get("key") == "user" and password.get("key") == "password":
        return str(user["secret"]) if user.get("secret") == password.get("secret") else None
    return None
