"""A run narrowed to some backends (``--backend``) imports only their modules — and those of the
backends whose section configures an apply lease when it applies, since every apply holds that
lease whichever backends it reconciles (an apply to the crontab alone once skipped the Kubernetes
Lease); a dry-run holds no lease and imports no more than it reads."""

from __future__ import annotations

from reconciler.backends import registry


def test_a_narrowed_apply_still_loads_the_backend_offering_the_lease() -> None:
    settings = {"crontab": {"target": {}}, "kubernetes": {"namespace": "n", "lease": "salam-dev"}}
    assert registry.needed(settings, ("crontab",), leasing=True) == ("crontab", "kubernetes")
    unleased = {**settings, "kubernetes": {"namespace": "n"}}
    assert registry.needed(unleased, ("crontab",), leasing=True) == ("crontab",)
    assert registry.needed(settings, (), leasing=True) == ()  # every backend


def test_a_narrowed_dry_run_loads_only_the_backends_it_reads() -> None:
    settings = {"crontab": {"target": {}}, "kubernetes": {"namespace": "n", "lease": "salam-dev"}}
    assert registry.needed(settings, ("crontab",), leasing=False) == ("crontab",)
