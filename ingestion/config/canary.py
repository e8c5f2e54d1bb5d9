"""The canary: a generated job that runs a tiny end-to-end ingestion every day (infra spec §7).

``canary:`` in environment.yaml (off unless set) makes the loader (:mod:`.loader`) add one job,
``canary``, to the environment: the embedded demo source's ``products`` table
(``.salam/source/miniboss_bss.db``, made by ``ingest demo-source``) in full to the lake namespace
``salam_canary``, on the environment's own scheduler (``canary.mode``, :mod:`.generated`),
daily at ``canary.cron`` in ``canary.timezone``. It is a job document like a job file's: merged
with ``defaults``, checked by the same schema, checks and policies, rendered to a plan and
deployed like any other. Its config path is ``environments/<env>/jobs/canary.yaml``, a file
that does not exist; loading that path (``ingest run --config``, the command the schedule runs)
yields the generated job. The controller alerts on it (:mod:`reconciler.controller.incidents`)
when its last run failed or it is late by more than ``canary.grace``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml

from ingestion.config import generated

NAME = "canary"
DEFAULT_CRON = "0 6 * * *"
DEFAULT_GRACE = "1h"
SOURCE_URL = "jdbc:sqlite:.salam/source/miniboss_bss.db"
TABLE = {"name": "products", "primary_key": ["product_id"]}
NAMESPACE = "salam_canary"


def settings_of(environment: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The ``canary`` section, or None when the environment has no canary."""
    section = environment.get("canary")
    return section if isinstance(section, dict) else None


def document(environment: Mapping[str, Any], section: Mapping[str, Any]) -> dict[str, Any]:
    """The canary's job config, as a job file would hold it (before ``defaults``)."""
    return {
        "name": NAME,
        "description": "Daily canary: a tiny end-to-end ingestion from the embedded demo source.",
        "source": {"jdbc_url": SOURCE_URL, "driver": "org.sqlite.JDBC", "tables": [TABLE]},
        "load": {"mode": "full"},
        "target": {"namespace": NAMESPACE},
        "runtime": {"orchestration": generated.orchestration(environment, section, DEFAULT_CRON)},
    }


def text(environment: Mapping[str, Any], section: Mapping[str, Any]) -> bytes:
    """The canary's job config as YAML bytes (what its diagnostics and digest are of)."""
    generated = document(environment, section)
    return yaml.safe_dump(generated, sort_keys=False).encode()
