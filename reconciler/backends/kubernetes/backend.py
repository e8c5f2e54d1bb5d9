"""The ``kubernetes`` backend: reconcile one batch/v1 CronJob per job through the official client.

The engine creates it per environment (``@register("kubernetes")``), renders plans through it, then
reads and applies. Read is one labelled list call per namespace, whatever the number of CronJobs.
Apply creates, replaces (carrying the resourceVersion it read; a 409 conflict re-reads and retries a
bounded number of times) and deletes — and only ever touches objects labelled as Salam's for this
environment, except an ``adopt``: a replace of an unlabelled CronJob with Salam's labels added (same
object, same uid; never one another environment's Salam labels). A ``suspend`` the job config does
not set is written as it is live (re-read after a conflict), so an operator's suspend survives an
apply. A failed write is a failed :class:`Result`; once the API is unreachable the remaining changes
are not attempted. An unusable cluster (no kubeconfig, unreachable or forbidden on read) raises
:class:`BackendError` before anything is applied.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from kubernetes import client

from ingestion.config.loader import Environment
from reconciler.backends import base
from reconciler.backends.kubernetes import connection, imported, lease, normalize, render
from reconciler.model import Action, Change, DesiredResource, LiveResource, ResourceKey, Result

MAX_CONFLICT_RETRIES = 3
Json = dict[str, Any]


class _Refused(Exception):
    """A change Salam must not make (the object is not Salam's); becomes a failed Result."""


base.register_lease("kubernetes")(lease.KubernetesLease)


@base.register("kubernetes")
class KubernetesBackend(base.Connected):
    """CronJobs of one environment, in the namespaces of its plans."""

    name = "kubernetes"

    def __init__(self, environment: Environment) -> None:
        self._environment = environment.name
        self._target = connection.Cluster.of(environment)
        self._namespaces = {self._target.namespace} - {""}
        self._api: client.ApiClient | None = None
        self._seen: dict[ResourceKey, Json] = {}  # the latest object read or written per key
        self._desired: dict[ResourceKey, str] = {}
        self._unreachable = ""

    def open(self) -> None:
        self._api = connection.connect(self._target)

    def close(self) -> None:
        if self._api is not None:
            self._api.close()
            self._api = None

    @property
    def _batch(self) -> client.BatchV1Api:
        if self._api is None:
            raise base.BackendError("kubernetes: backend used outside its 'with' block")
        return client.BatchV1Api(self._api)

    def render(self, plan: Mapping[str, Any]) -> DesiredResource:
        resource = render.desired(plan)
        self._namespaces.add(resource.key.scope)
        self._desired[resource.key] = resource.job
        return resource

    def location(self, key: ResourceKey) -> dict[str, Any]:
        return {"kubernetes.namespace": key.scope}

    def read(self) -> list[LiveResource]:
        found: list[LiveResource] = []
        for namespace in sorted(self._namespaces):
            found.extend(self._read_namespace(namespace))
        return sorted(found, key=lambda r: r.key)

    def apply(self, changes: Sequence[Change]) -> list[Result]:
        return [self._apply_one(change) for change in changes]

    # --- read -------------------------------------------------------------------------------

    def _read_namespace(self, namespace: str) -> list[LiveResource]:
        """Ours, by one labelled list call; plus, only when a desired CronJob is missing from it,
        one unlabelled list call to find foreign objects squatting on a desired name."""
        live = [
            self._live(namespace, obj)
            for obj in self._list(namespace, labelled=True)
            if normalize.owned(obj, self._environment)
        ]  # the selector is the contract
        ours = {resource.key for resource in live}
        missing = {k for k in self._desired if k.scope == namespace and k not in ours}
        if missing:
            live.extend(self._foreign(namespace, missing))
        return live

    def _list(self, namespace: str, labelled: bool) -> list[Json]:
        selector = render.selector(self._environment) if labelled else None
        found = self._call(
            "list",
            namespace,
            "",
            lambda: self._batch.list_namespaced_cron_job(
                namespace,
                label_selector=selector,
                _preload_content=False,
                _request_timeout=connection.DEFAULT_TIMEOUT,
            ),
        )
        return list(found.get("items") or [])

    def _foreign(self, namespace: str, missing: set[ResourceKey]) -> list[LiveResource]:
        foreign = []
        for obj in self._list(namespace, labelled=False):
            key = ResourceKey(render.BACKEND, namespace, obj["metadata"]["name"])
            if key in missing and not normalize.owned(obj, self._environment):
                foreign.append(
                    LiveResource(
                        key,
                        self._desired[key],
                        normalize.canonical(obj),
                        normalize.meta(obj),
                        managed=False,
                    )
                )
        return foreign

    def unmanaged(self) -> list[base.Unmanaged]:
        """Every CronJob of the configured namespace without Salam's labels (``reconcile
        import``); one labelled by another environment's Salam is not listed."""
        return [
            imported.unmanaged(obj, self._environment)
            for namespace in sorted(self._namespaces)
            for obj in self._list(namespace, labelled=False)
            if render.MANAGED_BY not in ((obj.get("metadata") or {}).get("labels") or {})
        ]

    # --- a move (reconciler.move) --------------------------------------------------------------

    def paused(
        self, resource: DesiredResource, notes: tuple[str, str] | None = None
    ) -> tuple[DesiredResource, DesiredResource]:
        """``resource`` suspended, and resumed (not suspended unless the config says so). The
        suspend is recorded as the move's (:data:`render.MOVE_SUSPEND`) or ``notes``' first,
        not the config's: one a killed move leaves behind is reported as paused, not in sync,
        and a hand pause is kept as an operator's."""
        held = notes[0] if notes else render.MOVE_SUSPEND
        stays = self.configured_pause(resource) is True
        return _suspended(resource, True, held), _suspended(resource, stays)

    def configured_pause(self, resource: DesiredResource) -> bool | None:
        suspend = resource.spec["suspend"]
        return None if suspend is None else bool(suspend)

    def running(self, live: LiveResource) -> bool:
        """Whether a Job the CronJob started is still active."""
        obj = self._fetch(live.key, missing_ok=True)
        return bool((obj.get("status") or {}).get("active"))

    def fires(self, live: LiveResource) -> tuple[str, str] | None:
        return str(live.spec["schedule"]), str(live.spec.get("timeZone") or "UTC")

    def _live(self, namespace: str, obj: Json) -> LiveResource:
        metadata = obj["metadata"]
        key = ResourceKey(render.BACKEND, namespace, metadata["name"])
        self._remember(key, obj)
        return LiveResource(
            key,
            metadata["labels"][render.JOB_LABEL],
            normalize.canonical(obj),
            normalize.meta(obj),
            managed=True,
            paused=normalize.paused(obj),
            observed=normalize.observed(obj),
        )

    def _call(self, verb: str, namespace: str, name: str, request: Callable[[], Any]) -> Json:
        """Run one API request; any failure on read is a :class:`BackendError`."""
        try:
            return connection.body(request())
        except connection.API_ERRORS as exc:
            raise base.BackendError(self._describe(exc, verb, namespace, name)) from exc

    # --- apply ------------------------------------------------------------------------------

    def _apply_one(self, change: Change) -> Result:
        if change.action is Action.NOOP:
            return Result.applied(change)
        if self._unreachable:
            return Result.skipped(change, str(self._unreachable))
        verb = change.action.verb if change.action is not Action.NOOP else "update"
        try:
            if change.action is Action.CREATE:
                self._create(_after(change))
            elif change.action is Action.DELETE:
                self._delete(change)
            elif change.action is Action.ADOPT:
                self._replace(_after(change), self._fetch_adoptable)
            else:
                self._replace(_after(change))
        except _Refused as exc:
            return Result.failed(change, f"kubernetes: refusing to {verb} {change.key}: {exc}")
        except connection.API_ERRORS as exc:
            message = self._describe(exc, verb, change.key.scope, change.key.name)
            if connection.status(exc) is None:
                self._unreachable = f"the API became unreachable during {verb} {change.key}"
            return Result.failed(change, message)
        return Result.applied(change)

    def _create(self, resource: DesiredResource) -> None:
        body = _model(render.manifest(resource, self._environment))
        try:
            created = connection.body(
                self._batch.create_namespaced_cron_job(
                    resource.key.scope,
                    body,
                    _preload_content=False,
                    _request_timeout=connection.DEFAULT_TIMEOUT,
                )
            )
        except client.ApiException as exc:
            if exc.status != 409:
                raise
            self._replace(resource)  # ours already (an earlier run lost the response), or refused
            return
        self._remember(resource.key, created)

    def _replace(
        self, resource: DesiredResource, fetch: Callable[[ResourceKey], Json] | None = None
    ) -> None:
        """Replace the object at the resource's key (``fetch`` reads it: ours only, unless
        adopting), carrying the resourceVersion read; a 409 re-reads and retries."""
        fetch = fetch or self._fetch_owned
        current = self._seen.get(resource.key) or fetch(resource.key)
        for _attempt in range(MAX_CONFLICT_RETRIES + 1):
            manifest = render.manifest(_keep_suspend(resource, current), self._environment)
            manifest["metadata"]["resourceVersion"] = _version(current)
            try:
                replaced = connection.body(
                    self._batch.replace_namespaced_cron_job(
                        resource.key.name,
                        resource.key.scope,
                        _model(manifest),
                        _preload_content=False,
                        _request_timeout=connection.DEFAULT_TIMEOUT,
                    )
                )
            except client.ApiException as exc:
                if exc.status != 409:
                    raise
                current = fetch(resource.key)  # what to keep is what is live now
                continue
            self._remember(resource.key, replaced)
            return
        raise _Refused(f"still conflicting after {MAX_CONFLICT_RETRIES} re-reads; run again")

    def _delete(self, change: Change) -> None:
        if change.before is None or not change.before.managed:
            raise _Refused("it does not carry Salam's labels for this environment")
        key = change.key
        self._fetch_owned(key, missing_ok=True)
        options = client.V1DeleteOptions(propagation_policy="Background")
        try:
            self._batch.delete_namespaced_cron_job(
                key.name,
                key.scope,
                body=options,
                _preload_content=False,
                _request_timeout=connection.DEFAULT_TIMEOUT,
            )
        except client.ApiException as exc:
            if exc.status != 404:  # already gone: the goal is reached
                raise
        self._seen.pop(key, None)

    def _fetch_owned(self, key: ResourceKey, missing_ok: bool = False) -> Json:
        """The current object at ``key`` (remembered), refusing an object that is not ours;
        ``{}`` when it is gone and ``missing_ok``."""
        obj = self._fetch(key, missing_ok)
        if not obj:
            return obj
        if not normalize.owned(obj, self._environment):
            raise _Refused("it exists but does not carry Salam's labels for this environment")
        self._remember(key, obj)
        return obj

    def _fetch_adoptable(self, key: ResourceKey) -> Json:
        """The current object at ``key``, to adopt: refused when another environment's Salam
        labels it (ours already: an earlier adopt whose response was lost)."""
        obj = self._fetch(key)
        labels = (obj.get("metadata") or {}).get("labels") or {}
        if labels.get(render.MANAGED_BY) == render.MANAGER and not normalize.owned(
            obj, self._environment
        ):
            raise _Refused("it carries Salam's labels of another environment")
        return obj

    def _fetch(self, key: ResourceKey, missing_ok: bool = False) -> Json:
        """The current object at ``key``; ``{}`` when it is gone and ``missing_ok``."""
        try:
            obj = connection.body(
                self._batch.read_namespaced_cron_job(
                    key.name,
                    key.scope,
                    _preload_content=False,
                    _request_timeout=connection.DEFAULT_TIMEOUT,
                )
            )
        except client.ApiException as exc:
            if exc.status == 404 and missing_ok:
                return {}
            if exc.status == 404:
                raise _Refused("it no longer exists (deleted meanwhile); run again") from exc
            raise
        return obj

    def _remember(self, key: ResourceKey, obj: Json) -> None:
        self._seen[key] = obj

    def _describe(self, exc: BaseException, verb: str, namespace: str, name: str) -> str:
        host = connection.server(self._api) if self._api is not None else "?"
        return connection.describe(exc, self._target, host, verb, namespace, name)


def _after(change: Change) -> DesiredResource:
    if change.after is None:
        raise _Refused(f"a {change.action.verb} without a desired state")
    return change.after


def _keep_suspend(resource: DesiredResource, live: Json) -> DesiredResource:
    """``resource`` as written over the ``live`` object: when the config does not set
    ``suspend`` (no record of it in ``meta``), the live value and the live record of who set it
    are kept, as Temporal keeps a pause and its note: an operator's suspend survives an apply,
    even one that races it (``live`` is re-read after a conflict)."""
    if render.SUSPEND_META in resource.meta:
        return resource
    kept = {k: v for k, v in normalize.meta(live).items() if k == render.SUSPEND_META}
    return dataclasses.replace(
        resource,
        spec={**resource.spec, "suspend": normalize.canonical(live)["suspend"]},
        meta={**resource.meta, **kept},
    )


def _suspended(resource: DesiredResource, suspend: bool, by: str | None = None) -> DesiredResource:
    meta = {**resource.meta, render.SUSPEND_META: by or ("true" if suspend else "false")}
    return dataclasses.replace(resource, spec={**resource.spec, "suspend": suspend}, meta=meta)


def _version(obj: Json) -> str:
    return str((obj.get("metadata") or {}).get("resourceVersion", ""))


def _model(manifest: Json) -> client.V1CronJob:
    model = client.V1CronJob.from_dict(manifest)
    if model is None:  # from_dict returns None only for None input
        raise _Refused("empty manifest")
    return model
