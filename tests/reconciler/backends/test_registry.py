"""A run narrowed to some backends (``--backend``) imports only their modules — and those of the
backends whose section configures an apply lease, since every apply holds that lease whichever
backends it reconciles (an apply to the crontab alone once skipped the Kubernetes Lease)."""

from __future__ import annotations

from reconciler.backends import registry


def test_a_narrowed_run_still_loads_the_backend_offering_the_lease() -> None:
    settings = {"crontab": {"target": {}}, "kubernetes": {"namespace": "n", "lease": "salam-dev"}}
    assert registry.needed(settings, ("crontab",)) == ("crontab", "kubernetes")
    assert registry.needed({**settings, "kubernetes": {"namespace": "n"}}, ("crontab",)) == (
        "crontab",
    )
    assert registry.needed(settings, ()) == ()  # every backend
