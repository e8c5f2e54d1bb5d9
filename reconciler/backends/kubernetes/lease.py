"""The apply lease of an in-cluster environment: a ``coordination.k8s.io/v1`` Lease.

When ``kubernetes.lease`` is set in environment.yaml, every apply of the environment (a CLI
apply, a controller's sync) holds the Lease ``kubernetes.lease.name`` (default
``salam-apply-<env>``) in the environment's namespace, beside the host's ``flock``: two
controllers, or a controller and a CI apply on other machines, never apply at once.

The rules are client-go's leader election:

- the holder writes its identity (user, host, pid and a random part), the lease duration and
  the times it acquired and last renewed the lease, and renews every third of the duration;
- a candidate takes the lease over when the holder's record has not changed for a whole lease
  duration, timed on the candidate's own clock — no two machines' clocks are compared — across
  the candidate's attempts (a controller retrying every few seconds still times the silence),
  and every write carries the ``resourceVersion`` it read, so of two candidates only one wins;
- the holder considers the lease lost once it has failed to renew for two thirds of the
  duration (the renew deadline), before any candidate can take over, and the engine stops
  before its next write (:meth:`KubernetesLease.lost`);
- releasing clears the holder, so the next apply need not wait.
"""

from __future__ import annotations

import getpass
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kubernetes import client

from ingestion.config.loader import Environment
from reconciler.backends import base
from reconciler.backends.kubernetes import connection

DEFAULT_DURATION_SECONDS = 15
RENEW_DEADLINE = 2 / 3  # of the duration: stop writing after failing to renew this long
RENEW_EVERY = 1 / 3  # of the duration
POLL_SECONDS = 0.5  # how often a waiting candidate looks at the lease
Json = dict[str, Any]
# per lease (namespace, name): the record (holder, resourceVersion) last read and when it was first
# seen so, on this process's monotonic clock
_OBSERVED: dict[tuple[str, str], tuple[tuple[str, str], float]] = {}
_OBSERVED_LOCK = threading.Lock()
RAW: dict[str, Any] = {"_preload_content": False, "_request_timeout": connection.DEFAULT_TIMEOUT}


@dataclass(frozen=True)
class LeaseSettings:
    """Which Lease an environment's applies hold, and for how long a holder may stay silent."""

    name: str
    namespace: str
    duration: float

    @classmethod
    def of(cls, environment: Environment) -> LeaseSettings:
        section: Mapping[str, Any] = environment.settings.get("kubernetes") or {}
        lease = section.get("lease")
        lease = lease if isinstance(lease, Mapping) else {}
        return cls(
            name=str(lease.get("name") or f"salam-apply-{environment.name}"),
            namespace=str(section.get("namespace", "")),
            duration=float(lease.get("duration_seconds") or DEFAULT_DURATION_SECONDS),
        )


def identity() -> str:
    """Who holds the lease, as a person reads it: ``user@host/pid/random``."""
    return f"{getpass.getuser()}@{socket.gethostname()}/{os.getpid()}/{uuid.uuid4().hex[:8]}"


class KubernetesLease(base.Connected):
    """The apply lease (a :class:`reconciler.backends.base.Lease`): acquired on entry, renewed
    by a background thread, released on exit."""

    def __init__(
        self,
        environment: Environment,
        timeout: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = LeaseSettings.of(environment)
        self.target = connection.Cluster.of(environment)
        self.identity = identity()
        self.timeout = timeout
        self._clock = clock
        self._api: client.ApiClient | None = None
        self._renewed_at = 0.0
        self._taken_by: str | None = None
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None

    @property
    def namespace(self) -> str:
        return self.settings.namespace

    @property
    def where(self) -> str:
        return f"lease {self.settings.namespace}/{self.settings.name}"

    # --- the Lease protocol (entered through base.Connected: open, then close) ---------------

    def open(self) -> None:
        self._api = connection.connect(self.target)
        self._acquire()
        self._renewer = threading.Thread(target=self._keep_renewing, daemon=True)
        self._renewer.start()

    def close(self) -> None:
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join()
            self._renewer = None
            if self.lost() is None:
                self._release()
        if self._api is not None:
            self._api.close()
            self._api = None

    def lost(self) -> str | None:
        if self._taken_by is not None:
            return f"the {self.where} was taken over by {self._taken_by}"
        silent = self._clock() - self._renewed_at
        if silent >= self.settings.duration * RENEW_DEADLINE:
            return (
                f"the {self.where} could not be renewed for {silent:.0f}s "
                f"(lease duration {self.settings.duration:g}s): another holder may take it over"
            )
        return None

    # --- acquiring ------------------------------------------------------------------------------

    def _acquire(self) -> None:
        """Create or take over the lease, waiting at most ``timeout`` for a live holder."""
        deadline = self._clock() + self.timeout
        while True:
            lease = self._read()
            if lease is None:
                if self._create():
                    return
                continue
            spec = lease.get("spec") or {}
            holder = str(spec.get("holderIdentity") or "")
            unchanged = self._unchanged_for(holder, str(lease["metadata"].get("resourceVersion")))
            expired = unchanged >= float(spec.get("leaseDurationSeconds") or self.settings.duration)
            if (not holder or holder == self.identity or expired) and self._take(lease, holder):
                return
            if self._clock() >= deadline:
                raise base.LeaseUnavailable(
                    f"another apply holds the {self.where} ({holder}, renewed "
                    f"{spec.get('renewTime')}); gave up after {self.timeout:g}s"
                )
            time.sleep(POLL_SECONDS)

    def _unchanged_for(self, holder: str, version: str) -> float:
        """How long this process has seen the lease record as it is now. Remembered across
        applies (a controller's next attempt goes on timing a silent holder, as client-go's
        elector does), so a wait shorter than the lease duration still ends in a takeover."""
        key, record = (self.namespace, self.settings.name), (holder, version)
        with _OBSERVED_LOCK:
            seen, since = _OBSERVED.get(key, (None, 0.0))
            if seen != record:
                seen, since = record, self._clock()
                _OBSERVED[key] = (seen, since)
        return self._clock() - since

    def _create(self) -> bool:
        now = _micro_time()
        body = {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {
                "name": self.settings.name,
                "labels": {"app.kubernetes.io/managed-by": "salam"},
            },
            "spec": {**self._spec(now), "acquireTime": now, "leaseTransitions": 0},
        }
        leases = self._leases()
        if not self._write(
            "create", lambda: leases.create_namespaced_lease(self.namespace, _model(body), **RAW)
        ):
            return False
        self._renewed_at = self._clock()
        return True

    def _take(self, lease: Json, holder: str) -> bool:
        """Write ourselves as the holder over the record we read; False if it changed since."""
        now = _micro_time()
        spec = dict(lease.get("spec") or {})
        if holder != self.identity:
            spec["acquireTime"] = now
            spec["leaseTransitions"] = int(spec.get("leaseTransitions") or 0) + (1 if holder else 0)
        spec.update(self._spec(now))
        if not self._replace(lease, spec):
            return False
        self._renewed_at = self._clock()
        return True

    # --- renewing and releasing -----------------------------------------------------------------

    def _keep_renewing(self) -> None:
        while not self._stop.wait(self.settings.duration * RENEW_EVERY):
            if self._taken_by is not None:
                return
            self._renew()

    def _renew(self) -> None:
        """One renewal; a failure leaves :meth:`lost` to notice the renew deadline passing."""
        try:
            lease = self._read()
        except base.BackendError:
            return
        holder = str(((lease or {}).get("spec") or {}).get("holderIdentity") or "")
        if lease is None or holder != self.identity:
            self._taken_by = holder or "nobody (the lease was released or deleted)"
            return
        spec = {**(lease.get("spec") or {}), "renewTime": _micro_time()}
        try:
            if self._replace(lease, spec):
                self._renewed_at = self._clock()
        except base.BackendError:
            return

    def _release(self) -> None:
        """Clear the holder (best effort: an unreachable API leaves the lease to expire)."""
        try:
            lease = self._read()
            spec = (lease or {}).get("spec") or {}
            if lease is not None and spec.get("holderIdentity") == self.identity:
                self._replace(lease, {**spec, "holderIdentity": "", "leaseDurationSeconds": 1})
        except base.BackendError:
            return

    # --- API calls ------------------------------------------------------------------------------

    def _spec(self, now: str) -> Json:
        return {
            "holderIdentity": self.identity,
            "leaseDurationSeconds": round(self.settings.duration),
            "renewTime": now,
        }

    def _leases(self) -> client.CoordinationV1Api:
        assert self._api is not None, "the lease is not entered"
        return client.CoordinationV1Api(self._api)

    def _read(self) -> Json | None:
        try:
            response = self._leases().read_namespaced_lease(
                self.settings.name, self.namespace, **RAW
            )
        except connection.API_ERRORS as exc:
            if connection.status(exc) == 404:
                return None
            raise self._error(exc, "read") from None
        return connection.body(response)

    def _replace(self, lease: Json, spec: Json) -> bool:
        body = {**lease, "spec": spec}
        leases, name = self._leases(), self.settings.name
        return self._write(
            "update",
            lambda: leases.replace_namespaced_lease(name, self.namespace, _model(body), **RAW),
        )

    def _write(self, verb: str, request: Callable[[], Any]) -> bool:
        """Send one write; False when another writer got there first (409)."""
        try:
            request()
        except connection.API_ERRORS as exc:
            if connection.status(exc) == 409:
                return False
            raise self._error(exc, verb) from None
        return True

    def _error(self, exc: BaseException, verb: str) -> base.BackendError:
        host = connection.server(self._api) if self._api is not None else "?"
        message = connection.describe(
            exc, self.target, host, verb, self.settings.namespace, f"lease {self.settings.name}"
        )
        return base.BackendError(message)


def _model(body: Json) -> client.V1Lease:
    model = client.V1Lease.from_dict(body)
    assert model is not None  # from_dict returns None only for None
    return model


def _micro_time() -> str:
    """Now as a Kubernetes MicroTime."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
