"""Open a Kubernetes API client from ``environment.yaml``'s ``kubernetes`` section.

``kubeconfig`` (a path; default ``$KUBECONFIG`` or ``~/.kube/config``) and ``context`` select a
cluster; ``in_cluster: true`` uses the pod's service account instead. The backend opens one
client per run (:func:`connect`) and words every API failure with :func:`describe`: which
cluster, which verb, which namespace, and what to do about it — never a request body.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import urllib3
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException

from ingestion.config.loader import Environment
from reconciler.backends.base import BackendError

API_ERRORS: tuple[type[BaseException], ...] = (ApiException, urllib3.exceptions.HTTPError, OSError)
DEFAULT_TIMEOUT = (5.0, 30.0)  # (connect, read) seconds per request
_HINTS = {
    401: "the credentials of this kubeconfig context were rejected; log in again",
    403: "the service account lacks this verb; apply manifests/ (Role salam-reconciler)",
    404: "the namespace or the batch/v1 CronJob API does not exist on this cluster",
}


@dataclass(frozen=True)
class Cluster:
    """Where the CronJobs of one environment live."""

    namespace: str
    kubeconfig: str | None = None
    context: str | None = None
    in_cluster: bool = False

    @classmethod
    def of(cls, environment: Environment) -> Cluster:
        section: Mapping[str, Any] = environment.settings.get("kubernetes") or {}
        path = section.get("kubeconfig")
        if path and not Path(path).is_absolute():
            path = str(Path(environment.root) / path)
        return cls(
            namespace=str(section.get("namespace", "")),
            kubeconfig=path,
            context=section.get("context"),
            in_cluster=bool(section.get("in_cluster")),
        )

    @property
    def cluster(self) -> str:
        """How messages name the cluster."""
        if self.in_cluster:
            return "in-cluster service account"
        where = self.kubeconfig or os.environ.get("KUBECONFIG") or "~/.kube/config"
        return f"context '{self.context or '(current)'}' of {where}"


def connect(target: Cluster) -> client.ApiClient:
    """An API client for ``target``; a missing or broken kubeconfig raises :class:`BackendError`."""
    try:
        if target.in_cluster:
            configuration = client.Configuration()
            config.load_incluster_config(client_configuration=configuration)
            return client.ApiClient(configuration)
        return config.new_client_from_config(
            config_file=target.kubeconfig, context=target.context, persist_config=False
        )
    except (ConfigException, OSError, ValueError) as exc:
        raise BackendError(
            f"kubernetes: cannot load the cluster configuration ({target.cluster}):"
            f" {exc}; hint: set kubernetes.kubeconfig / kubernetes.context in"
            " environment.yaml, or kubernetes.in_cluster: true"
        ) from exc


def body(response: Any) -> dict[str, Any]:
    """The JSON body of a raw (``_preload_content=False``) response."""
    data = json.loads(response.data or b"{}")
    return data if isinstance(data, dict) else {}


def server(api: client.ApiClient) -> str:
    return str(api.configuration.host)


def status(exc: BaseException) -> int | None:
    """The HTTP status of an API error, None for a transport failure (unreachable, reset)."""
    return int(exc.status) if isinstance(exc, ApiException) and exc.status else None


def describe(
    exc: BaseException, target: Cluster, host: str, verb: str, namespace: str, name: str = ""
) -> str:
    """One line: what failed where, why, and a hint."""
    what = f"{verb} {name or 'cronjobs'} in namespace '{namespace}'"
    where = f"cluster {host} ({target.cluster})"
    code = status(exc)
    if code is None:
        return (
            f"kubernetes: cannot {what} on {where}: API unreachable ({type(exc).__name__});"
            " hint: check the cluster address, the network and the kubeconfig context"
        )
    reason = _reason(exc)
    hint = _HINTS.get(code, "see the API server's message")
    return f"kubernetes: cannot {what} on {where}: {code} {reason}; hint: {hint}"


def _reason(exc: BaseException) -> str:
    """The API server's Status reason and message (never the request), shortened."""
    body = getattr(exc, "body", None) or ""
    try:
        data = json.loads(body)
    except (TypeError, ValueError):
        data = {}
    if not isinstance(data, dict):
        data = {}
    reason = str(data.get("reason") or getattr(exc, "reason", "") or "")
    message = str(data.get("message") or "")[:200]
    return f"{reason}: {message}" if message else reason
