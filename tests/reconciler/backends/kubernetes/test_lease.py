"""The apply lease (a coordination.k8s.io/v1 Lease on the emulated API server): one holder at a
time, renewed while held, taken over only once its holder has gone silent for a lease duration
(a holder killed with SIGKILL), released on exit; under the engine, an apply that lost its lease
writes nothing more, and the CLI honours a lease another machine holds."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import kmock
import pytest
from kubernetes import client, config

from ingestion.config.loader import Environment
from reconciler import engine, lock
from reconciler.backends import base
from reconciler.backends.kubernetes.lease import KubernetesLease
from reconciler.model import ApplyStatus, ResultStatus
from tests.conftest import ROOT
from tests.reconciler.backends.kubernetes.emulator import EmulatorServer
from tests.reconciler.backends.kubernetes.test_engine import options as engine_options

LEASES = kmock.resource("coordination.k8s.io", "v1", "leases")
CRONJOBS = kmock.resource("batch", "v1", "cronjobs")
NS = "ingestion-dev"
NAME = "salam-apply-dev"
DURATION = 3  # seconds: the shortest the schema allows, so takeovers happen quickly


@pytest.fixture
def leased(environment: Callable[..., Environment]) -> Callable[..., Environment]:
    """Dev with its apply lease turned on (duration 3 s)."""

    def load(*extra: str) -> Environment:
        return environment("dev", f"kubernetes.lease.duration_seconds={DURATION}", *extra)

    return load


def _lease(k8s: EmulatorServer) -> dict[str, Any]:
    return dict(k8s.emulator.objects[LEASES, NS, NAME].raw)


def _spec(k8s: EmulatorServer) -> dict[str, Any]:
    return dict(_lease(k8s)["spec"])


def _wait(condition: Callable[[], object], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"not within {seconds}s"
        time.sleep(0.1)


def test_the_lease_names_its_holder_while_held_and_is_released_on_exit(
    leased: Callable[..., Environment], k8s: EmulatorServer
) -> None:
    with KubernetesLease(leased(), timeout=5) as held:
        spec = _spec(k8s)
        assert spec["holderIdentity"] == held.identity
        assert f"/{os.getpid()}/" in held.identity
        assert spec["leaseDurationSeconds"] == DURATION
        assert held.lost() is None
    assert _spec(k8s)["holderIdentity"] == ""


def test_a_held_lease_is_renewed_and_a_second_holder_gives_up_naming_the_first(
    leased: Callable[..., Environment], k8s: EmulatorServer
) -> None:
    with KubernetesLease(leased(), timeout=5) as first:
        renewed = _spec(k8s)["renewTime"]
        # longer than a whole lease duration: only the renewals keep the second one out
        with pytest.raises(base.LeaseUnavailable) as refused:
            KubernetesLease(leased(), timeout=DURATION * 1.7).__enter__()
        assert first.identity in str(refused.value) and "gave up after" in str(refused.value)
        assert _spec(k8s)["renewTime"] != renewed
        assert _spec(k8s)["holderIdentity"] == first.identity
        assert first.lost() is None


HOLDER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from ingestion.config.loader import load_environment
    from reconciler.backends.kubernetes.lease import KubernetesLease
    env = load_environment(Path(sys.argv[1]), "dev", overrides=sys.argv[2:])
    with KubernetesLease(env, timeout=10) as held:
        print(held.identity, flush=True)
        time.sleep(600)
    """
)


@pytest.fixture
def holder_process(kubeconfig: Path) -> Iterator[Callable[[], tuple[subprocess.Popen[str], str]]]:
    """Start another process that takes the lease and keeps renewing it."""
    started: list[subprocess.Popen[str]] = []

    def start() -> tuple[subprocess.Popen[str], str]:
        overrides = [
            f"kubernetes.kubeconfig={kubeconfig}",
            "kubernetes.context=kmock",
            "kubernetes.disabled=null",
            f"kubernetes.lease.duration_seconds={DURATION}",
        ]
        process = subprocess.Popen(
            [sys.executable, "-c", HOLDER, str(ROOT), *overrides],
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        started.append(process)
        assert process.stdout is not None
        identity = process.stdout.readline().strip()
        assert identity, "the holder process did not take the lease"
        return process, identity

    yield start
    for process in started:
        process.kill()
        process.wait(10)


def test_a_holder_killed_with_sigkill_is_taken_over_within_the_lease_duration(
    leased: Callable[..., Environment],
    k8s: EmulatorServer,
    holder_process: Callable[[], tuple[subprocess.Popen[str], str]],
) -> None:
    process, first = holder_process()
    assert _spec(k8s)["holderIdentity"] == first
    os.kill(process.pid, signal.SIGKILL)
    process.wait(10)
    began = time.monotonic()
    with KubernetesLease(leased(), timeout=DURATION * 3) as second:
        waited = time.monotonic() - began
        spec = _spec(k8s)
        assert spec["holderIdentity"] == second.identity != first
        assert spec["leaseTransitions"] == 1
    # it waited for the record to stay unchanged for one duration (a bounded, generous check)
    assert DURATION * 0.9 <= waited <= DURATION * 2.5


def test_a_holder_whose_lease_was_taken_over_knows_it(
    leased: Callable[..., Environment], k8s: EmulatorServer, kubeconfig: Path
) -> None:
    with KubernetesLease(leased(), timeout=5) as held:
        _steal(kubeconfig, "someone-else")
        _wait(lambda: held.lost() is not None, DURATION * 2)
        assert "taken over by someone-else" in str(held.lost())
    assert _spec(k8s)["holderIdentity"] == "someone-else"  # not released: not ours any more


def test_a_holder_that_cannot_renew_stops_before_another_may_take_over(
    leased: Callable[..., Environment], k8s: EmulatorServer
) -> None:
    held = KubernetesLease(leased(), timeout=5).__enter__()
    k8s.emulator.down = True
    _wait(lambda: held.lost() is not None, DURATION * 2)
    assert "could not be renewed" in str(held.lost())
    k8s.emulator.down = False
    held.__exit__(None, None, None)


def _with_lease(opts: engine.ReconcileOptions) -> engine.ReconcileOptions:
    lease = f"kubernetes.lease.duration_seconds={DURATION}"
    return dataclasses.replace(opts, overrides=(*opts.overrides, lease))


def _steal(kubeconfig: Path, who: str) -> None:
    """Another machine takes the lease over (as it would after our silence)."""
    api = config.new_client_from_config(config_file=str(kubeconfig), context="kmock")
    leases = client.CoordinationV1Api(api)
    current = leases.read_namespaced_lease(NAME, NS)
    assert current.spec is not None
    current.spec.holder_identity = who
    leases.replace_namespaced_lease(NAME, NS, current)
    api.close()


def test_an_apply_that_lost_its_lease_writes_nothing_more_and_the_next_one_says_so(
    project: Callable[..., Path], kubeconfig: Path, k8s: EmulatorServer
) -> None:
    root = project("dev")
    opts = _with_lease(engine_options(root, kubeconfig))
    with engine.prepare(opts, for_apply=True) as current:
        assert len(current.leases) == 1 and not current.change_set.empty
        _steal(kubeconfig, "the-other-controller")
        _wait(lambda: current.lease_lost() is not None, DURATION * 2)
        outcome = engine.apply(current)
    assert outcome.status is ApplyStatus.LEASE_LOST and outcome.status.exit_code == 1
    assert all(r.status is ResultStatus.SKIPPED for r in outcome.results)
    assert "the-other-controller" in outcome.results[0].error
    assert not [key for key in k8s.emulator.objects if key[0] == CRONJOBS]
    _steal(kubeconfig, "")  # the other controller is done
    with engine.prepare(opts, for_apply=True) as current:
        assert any("lost its apply lease" in note for note in current.notes)
        outcome = engine.apply(current)
    assert outcome.status is ApplyStatus.APPLIED


def test_an_apply_waits_for_the_lease_another_machine_holds_then_names_the_holder(
    project: Callable[..., Path],
    kubeconfig: Path,
    k8s: EmulatorServer,
    holder_process: Callable[[], tuple[subprocess.Popen[str], str]],
) -> None:
    root = project("dev")
    _process, holder = holder_process()
    opts = dataclasses.replace(_with_lease(engine_options(root, kubeconfig)), lock_timeout=2)
    with pytest.raises(lock.LockTimeout) as refused, engine.prepare(opts, for_apply=True):
        pass
    assert holder in str(refused.value) and f"lease {NS}/{NAME}" in str(refused.value)
    assert not [key for key in k8s.emulator.objects if key[0] == CRONJOBS]
