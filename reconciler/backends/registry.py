"""Import the backend modules so each registers itself; report the ones this build lacks.

A backend whose module cannot be imported (its client library missing) is simply absent from the
registry; the engine then warns about the jobs it cannot reconcile.
"""

from __future__ import annotations

import importlib
from collections.abc import Collection, Mapping
from typing import Any

from reconciler.backends import base

MODULES = {
    "crontab": "reconciler.backends.crontab.backend",
    "temporal": "reconciler.backends.temporal.backend",
    "kubernetes": "reconciler.backends.kubernetes.backend",
    "airflow": "reconciler.backends.airflow",
    "export": "reconciler.backends.export",
}


def needed(settings: Mapping[str, Any], only: Collection[str], leasing: bool) -> tuple[str, ...]:
    """The backend modules a run narrowed to ``only`` must import (every one when ``only`` is
    empty): those and, for a run that holds the apply leases (``leasing``: an apply), each
    backend whose section configures one (its module offers the lease, which every apply of
    the environment holds, whichever backends it reconciles). A dry-run holds no lease."""
    if not only:
        return ()
    leased = [
        name
        for name in MODULES
        if leasing and isinstance(settings.get(name), Mapping) and settings[name].get("lease")
    ]
    return tuple(sorted({*only, *leased}))


def load_all(only: Collection[str] = ()) -> list[str]:
    """Import the backend modules that exist (only those named in ``only``, when given: a run
    narrowed to some backends does not pay for the others' client libraries); returns the
    registered backend names."""
    for name, module in MODULES.items():
        if name in base.names() or (only and name not in only):
            continue
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if not (exc.name and module.startswith(exc.name)):
                raise
    return base.names()
