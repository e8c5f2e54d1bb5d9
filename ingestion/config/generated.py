"""What the jobs Salam generates from ``environment.yaml`` share: their scheduler and schedule.

The canary (:mod:`.canary`) and the lake's maintenance (:mod:`.maintenance`) are job documents
the loader adds to an environment when their section is set. Both run on the environment's own
scheduler unless their section names one: ``temporal`` when the environment has a Temporal
cluster, else ``plain_cron``; at the section's ``cron`` in its ``timezone``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def mode(environment: Mapping[str, Any], section: Mapping[str, Any]) -> str:
    """The mode a generated job runs in: as set, else the environment's Temporal cluster if it
    has one, else its crontab."""
    default = "temporal" if isinstance(environment.get("temporal"), dict) else "plain_cron"
    return str(section.get("mode", default))


def orchestration(
    environment: Mapping[str, Any],
    section: Mapping[str, Any],
    default_cron: str,
    command: Sequence[str] = (),
) -> dict[str, Any]:
    """The ``runtime.orchestration`` of a generated job (``command``: its own argv, if any)."""
    chosen = mode(environment, section)
    cron = str(section.get("cron", default_cron))
    zone = str(section.get("timezone", "UTC"))
    own = {"command": list(command)} if command else {}
    if chosen == "plain_cron":
        return {"mode": chosen, "cron": {"expression": cron, "timezone": zone, **own}}
    return {"mode": chosen, chosen: {"schedule": {"cron": cron, "timezone": zone}, **own}}
