"""A kmock Kubernetes emulator extended with what a reconciler relies on, served on loopback.

kmock's :class:`KubernetesEmulator` lacks PUT (replace), label selectors, uid / resourceVersion /
generation stamping, optimistic-concurrency conflicts and server defaulting. This subclass adds
them (as a kube-apiserver does for the fields involved), plus fault injection (an HTTP status
for a verb, or the whole API going away after N writes). :class:`EmulatorServer` runs it in a
background thread on a free port so the synchronous ``kubernetes`` client can talk to it.
"""

from __future__ import annotations

import asyncio
import copy
import datetime
import itertools
import threading
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp.web
import attrs
import kmock
from kmock._internal import rendering

POD_DEFAULTS = {
    "dnsPolicy": "ClusterFirst",
    "schedulerName": "default-scheduler",
    "securityContext": {},
    "terminationGracePeriodSeconds": 30,
}
CONTAINER_DEFAULTS = {
    "imagePullPolicy": "IfNotPresent",
    "terminationMessagePath": "/dev/termination-log",
    "terminationMessagePolicy": "File",
}
CRONJOB_DEFAULTS = {
    "suspend": False,
    "concurrencyPolicy": "Allow",
    "successfulJobsHistoryLimit": 3,
    "failedJobsHistoryLimit": 1,
}
WRITES = {"POST", "PUT", "PATCH", "DELETE"}


@dataclass
class Fault:
    """Answer ``status`` to ``method`` requests (optionally for one name), ``times`` times."""

    method: str
    status: int
    times: int | None = 1
    name: str | None = None
    reason: str = "Injected"


@attrs.define(kw_only=True)
class ReconcilerEmulator(kmock.KubernetesEmulator):
    """The emulator plus replace, selectors, stamping, conflicts, defaults and faults."""

    faults: list[Fault] = attrs.field(factory=list)
    down_after_writes: int | None = None
    down: bool = False
    _versions: Iterator[int] = attrs.field(factory=lambda: itertools.count(1000))

    async def _handle(self, request: rendering.Request) -> aiohttp.web.StreamResponse:
        if self.down:
            _abort(request)
        self._inject_fault(request)
        if request.resource is not None and request.method == "PUT" and request.name:
            response: aiohttp.web.StreamResponse = await self._replace(request)
        else:
            if request.action == kmock.action.CREATE and isinstance(request.data, dict):
                stamped = self._stamp(request.data, None)  # in place: the request is frozen
                request.data.clear()
                request.data.update(stamped)
            response = await super()._handle(request)
            if request.action == kmock.action.UPDATE and request.name:
                await self._bump(request)
        self._count_write(request)
        return response

    # --- replace (PUT) with optimistic concurrency ---------------------------------------------

    async def _replace(self, request: rendering.Request) -> aiohttp.web.StreamResponse:
        key = _key(request)
        async with self._lock:
            if key not in self._objects or self._objects[key].deleted:
                raise kmock.KubernetesObjectNotFoundError()
            current = copy.deepcopy(self._objects[key].raw)
            sent = (request.data.get("metadata") or {}).get("resourceVersion")
            if sent and sent != current["metadata"]["resourceVersion"]:
                raise kmock.KubernetesError(
                    status=409,
                    reason="Conflict",
                    message=f"Operation cannot be fulfilled on {key[0].plural} "
                    f'"{request.name}": the object has been modified; please apply your '
                    "changes to the latest version and try again",
                )
            replaced = self._stamp(request.data, current)
            self._objects[key].create(replaced)
        return aiohttp.web.json_response(replaced)

    async def _bump(self, request: rendering.Request) -> None:
        key = _key(request)
        async with self._lock:
            if key in self._objects and not self._objects[key].deleted:
                self._objects[key].patch({"metadata": {"resourceVersion": self._next()}})

    # --- stamping and defaulting ----------------------------------------------------------------

    def _next(self) -> str:
        return str(next(self._versions))

    def _stamp(self, data: Mapping[str, Any], current: Mapping[str, Any] | None) -> dict[str, Any]:
        obj = copy.deepcopy(dict(data))
        meta = obj.setdefault("metadata", {})
        now = datetime.datetime.now(tz=datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        old = (current or {}).get("metadata", {})
        meta["uid"] = old.get("uid") or str(uuid.uuid4())
        meta["creationTimestamp"] = old.get("creationTimestamp") or now
        meta["resourceVersion"] = self._next()
        changed = current is None or current.get("spec") != _defaulted(obj).get("spec")
        meta["generation"] = int(old.get("generation", 0)) + (1 if changed else 0)
        meta["managedFields"] = [{"manager": "salam", "operation": "Update", "time": now}]
        obj.setdefault("status", (current or {}).get("status", {}))
        return _defaulted(obj)

    def _inject_fault(self, request: rendering.Request) -> None:
        name = request.name
        if name is None and isinstance(request.data, dict):
            name = (request.data.get("metadata") or {}).get("name")
        for fault in self.faults:
            if fault.method != request.method or fault.times == 0:
                continue
            if fault.name is not None and fault.name != name:
                continue
            if fault.times is not None:
                fault.times -= 1
            raise kmock.KubernetesError(
                status=fault.status,
                reason=fault.reason,
                message=f"injected {fault.status} for {fault.method}",
            )

    def _count_write(self, request: rendering.Request) -> None:
        if request.method in WRITES and self.down_after_writes is not None:
            self.down_after_writes -= 1
            if self.down_after_writes <= 0:
                self.down = True

    # --- list with label selectors --------------------------------------------------------------

    async def _serve_list(self, request: rendering.Request) -> rendering.Payload:
        listed = await super()._serve_list(request)
        assert isinstance(listed, dict)
        wanted = _selector(request.params.get("labelSelector", ""))
        items = [o for o in listed["items"] if _matches(o, wanted)]
        kind = items[0]["kind"] if items else "CronJob"
        version = items[0]["apiVersion"] if items else "batch/v1"
        return {
            "apiVersion": version,
            "kind": f"{kind}List",
            "metadata": {"resourceVersion": self._next()},
            "items": items,
        }


def _key(request: rendering.Request) -> tuple[kmock.resource, str | None, str]:
    assert request.resource is not None and request.name is not None
    return request.resource, request.namespace, request.name


def _defaulted(obj: dict[str, Any]) -> dict[str, Any]:
    obj = copy.deepcopy(obj)
    spec = obj.get("spec") or {}
    if obj.get("kind") != "CronJob":
        return obj
    for key, value in CRONJOB_DEFAULTS.items():
        spec.setdefault(key, value)
    job = spec.setdefault("jobTemplate", {})
    job.setdefault("metadata", {}).setdefault("creationTimestamp", None)
    job_spec = job.setdefault("spec", {})
    job_spec.setdefault("backoffLimit", 6)
    template = job_spec.setdefault("template", {})
    template.setdefault("metadata", {}).setdefault("creationTimestamp", None)
    pod = template.setdefault("spec", {})
    for key, value in POD_DEFAULTS.items():
        pod.setdefault(key, copy.deepcopy(value))
    for container in pod.get("containers") or []:
        for key, value in CONTAINER_DEFAULTS.items():
            container.setdefault(key, value)
    return obj


def _selector(text: str) -> list[tuple[str, str, str]]:
    """``k=v``, ``k==v``, ``k!=v``, ``k``, ``!k`` terms as (op, key, value)."""
    terms = []
    for term in filter(None, (t.strip() for t in text.split(","))):
        if "!=" in term:
            key, value = term.split("!=", 1)
            terms.append(("!=", key, value))
        elif "=" in term:
            key, value = term.replace("==", "=").split("=", 1)
            terms.append(("=", key, value))
        elif term.startswith("!"):
            terms.append(("!", term[1:], ""))
        else:
            terms.append(("exists", term, ""))
    return terms


def _matches(obj: Mapping[str, Any], terms: list[tuple[str, str, str]]) -> bool:
    labels = (obj.get("metadata") or {}).get("labels") or {}
    checks = {
        "=": lambda k, v: labels.get(k) == v,
        "!=": lambda k, v: labels.get(k) != v,
        "!": lambda k, v: k not in labels,
        "exists": lambda k, v: k in labels,
    }
    return all(checks[op](key, value) for op, key, value in terms)


def _abort(request: rendering.Request) -> None:
    raw = request._raw_request
    if raw is not None and raw.transport is not None:
        raw.transport.abort()
    raise ConnectionResetError("the emulated API server went away")


class EmulatorServer:
    """Runs a :class:`ReconcilerEmulator` over HTTP on 127.0.0.1 in a background thread."""

    def __init__(self) -> None:
        self.emulator = ReconcilerEmulator()
        self.emulator.resources.load_bundled()
        self.port = 0
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._serve()), daemon=True)

    async def _serve(self) -> None:
        async with self.emulator, kmock.Server(self.emulator, host="127.0.0.1") as server:
            self.port = server.port
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            self._ready.set()
            await self._stop.wait()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> EmulatorServer:
        self._thread.start()
        if not self._ready.wait(20):
            raise RuntimeError("the Kubernetes emulator did not start")
        return self

    def stop(self) -> None:
        """Stop serving (idempotent): afterwards the port refuses connections."""
        if self._loop is not None and self._stop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread.is_alive():
            self._thread.join(20)

    def requests(self, method: str | None = None) -> list[rendering.Request]:
        """Requests served so far (API calls only), optionally of one HTTP method."""
        return [
            r
            for r in list(self.emulator._requests)
            if r.resource is not None and (method is None or r.method == method)
        ]

    def kubeconfig(self) -> str:
        """A kubeconfig (YAML text) whose context ``kmock`` points at this server."""
        return (
            "apiVersion: v1\nkind: Config\ncurrent-context: kmock\n"
            f"clusters:\n- name: kmock\n  cluster:\n    server: {self.url}\n"
            "contexts:\n- name: kmock\n  context:\n    cluster: kmock\n    user: kmock\n"
            "users:\n- name: kmock\n  user:\n    token: emulator-token\n"
        )
