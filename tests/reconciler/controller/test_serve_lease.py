"""A controller and another machine never apply one environment at once: with
``kubernetes.lease`` set, the controller (a subprocess, on the real crontab file target) waits
for the Lease another process holds on the emulated API server, reports it and backs off, writes
nothing meanwhile, and applies within a lease duration of the holder being killed with SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

from tests.reconciler.backends.kubernetes.conftest import k8s, kubeconfig  # noqa: F401
from tests.reconciler.backends.kubernetes.emulator import EmulatorServer
from tests.reconciler.backends.kubernetes.test_lease import DURATION, _spec, holder_process  # noqa: F401
from tests.reconciler.controller.conftest import Site


def test_the_controller_waits_for_the_lease_and_takes_it_over_when_its_holder_is_killed(
    crontab_site: Site,
    kubeconfig: Path,  # noqa: F811
    k8s: EmulatorServer,  # noqa: F811
    holder_process: Callable[[], tuple[subprocess.Popen[str], str]],  # noqa: F811
) -> None:
    site = crontab_site
    holder, identity = holder_process()
    site.start(
        "sync.mode=apply",
        "kubernetes.disabled=null",
        f"kubernetes.kubeconfig={kubeconfig}",
        "kubernetes.context=kmock",
        f"kubernetes.lease.duration_seconds={DURATION}",
        extra=("--lock-timeout", "1"),
    )
    status = site.wait(lambda s: s["failures"] >= 2, "two passes refused by the lease")
    assert (
        identity in status["last_error"]
        and "lease ingestion-dev/salam-apply-dev" in (status["last_error"])
    )
    assert status["sync_state"] == "failed"
    assert not site.crontab.exists()  # nothing written while another holds the lease

    os.kill(holder.pid, signal.SIGKILL)
    holder.wait(10)
    status = site.wait(lambda s: s["sync_state"] == "synced", "the apply after the takeover")
    assert site.crontab.exists()
    spec = _spec(k8s)
    assert spec["holderIdentity"] == ""  # released after the apply
    assert spec["leaseTransitions"] >= 1
    assert site.stop() == 0
