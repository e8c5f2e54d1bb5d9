"""Live CronJob object → the canonical spec of :mod:`render` (pure data, no client).

The backend calls :func:`canonical` on every object its list call returns. It projects the
object onto the fields Salam owns, so whatever the API server adds (``status``,
``managedFields``, ``uid``, ``resourceVersion``, ``creationTimestamp``, defaults such as
``imagePullPolicy`` or ``dnsPolicy``) never shows as a difference, while an absent owned field
reads as the server's default (an unset ``suspend`` is ``false``). What an operator added that
Salam cannot express (a literal env value, another container) still shows as drift; a literal
value is shown only as its hash, never as text.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from reconciler.backends.kubernetes import render

# The API server's defaults for owned fields, used when the live object does not carry them.
CRONJOB_DEFAULTS: Mapping[str, Any] = {
    "suspend": False,
    "concurrencyPolicy": "Allow",
    "successfulJobsHistoryLimit": 3,
    "failedJobsHistoryLimit": 1,
}
JOB_DEFAULTS: Mapping[str, Any] = {"backoffLimit": 6}


def canonical(obj: Mapping[str, Any]) -> dict[str, Any]:
    """The canonical spec of a live CronJob (a dict in the API's camelCase JSON form)."""
    spec = obj.get("spec") or {}
    job_spec = (spec.get("jobTemplate") or {}).get("spec") or {}
    pod_spec = (job_spec.get("template") or {}).get("spec") or {}
    containers = list(pod_spec.get("containers") or [])
    ours: Mapping[str, Any] = next((c for c in containers if c.get("name") == render.CONTAINER), {})
    found: dict[str, Any] = {
        "schedule": spec.get("schedule"),
        "timeZone": spec.get("timeZone"),
        **{key: _or(spec.get(key), default) for key, default in CRONJOB_DEFAULTS.items()},
        "startingDeadlineSeconds": spec.get("startingDeadlineSeconds"),
        **{key: _or(job_spec.get(key), default) for key, default in JOB_DEFAULTS.items()},
        "restartPolicy": pod_spec.get("restartPolicy"),
        "serviceAccountName": pod_spec.get("serviceAccountName"),
        "image": ours.get("image"),
        "command": list(ours.get("command") or []),
        "env": [env_var(item) for item in ours.get("env") or []],
        "resources": resources(ours.get("resources") or {}),
    }
    others = sorted(str(c.get("name")) for c in containers if c is not ours)
    if others:
        found["otherContainers"] = others
    return found


def env_var(item: Mapping[str, Any]) -> dict[str, Any]:
    """One container env entry: a Secret reference as {name, secret, key}; others opaque."""
    source = item.get("valueFrom") or {}
    ref = source.get("secretKeyRef")
    if ref and set(source) == {"secretKeyRef"}:
        return {"name": item.get("name"), "secret": ref.get("name"), "key": ref.get("key")}
    if source:
        return {"name": item.get("name"), "valueFrom": dict(source)}
    digest = hashlib.sha256(str(item.get("value", "")).encode()).hexdigest()[:12]
    return {"name": item.get("name"), "value_sha256": digest}


def resources(value: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """Requests / limits as strings, empty sections dropped, keys sorted."""
    return {
        kind: {name: str(q) for name, q in sorted((value.get(kind) or {}).items())}
        for kind in sorted(value)
        if value.get(kind)
    }


def owned(obj: Mapping[str, Any], environment: str) -> bool:
    """Whether ``obj`` carries Salam's ownership labels for ``environment``."""
    found = (obj.get("metadata") or {}).get("labels") or {}
    return (
        found.get(render.MANAGED_BY) == render.MANAGER
        and found.get(render.ENVIRONMENT_LABEL) == environment
        and bool(found.get(render.JOB_LABEL))
    )


def meta(obj: Mapping[str, Any]) -> dict[str, str]:
    """The bookkeeping annotations of ``obj`` as a resource's ``meta``."""
    notes = (obj.get("metadata") or {}).get("annotations") or {}
    return {key: str(notes[name]) for key, name in render.META_ANNOTATIONS.items() if name in notes}


def paused(obj: Mapping[str, Any]) -> bool:
    """Suspended, but not by Salam (its annotation does not say the config suspends it): an
    operator's pause, reported as ``paused`` and kept unless the config sets ``suspend``."""
    notes = (obj.get("metadata") or {}).get("annotations") or {}
    suspended = bool((obj.get("spec") or {}).get("suspend"))
    return suspended and notes.get(render.CONFIGURED_SUSPEND) != "true"


def _or(value: Any, default: Any) -> Any:
    return default if value is None else value


def observed(obj: Mapping[str, Any]) -> dict[str, Any]:
    """What the CronJob controller reports about its runs (``LiveResource.observed``)."""
    status = obj.get("status") or {}
    return {
        "last_scheduled_at": status.get("lastScheduleTime"),
        "last_succeeded_at": status.get("lastSuccessfulTime"),
        "running": len(status.get("active") or []),
        "pause_note": _pause_note(obj),
    }


def _pause_note(obj: Mapping[str, Any]) -> str | None:
    """Who suspended it, when that was recorded by hand (``reconcile pause``) or a move."""
    note = ((obj.get("metadata") or {}).get("annotations") or {}).get(render.CONFIGURED_SUSPEND)
    return note if paused(obj) and note not in (None, "true", "false") else None
