"""The lake's maintenance schedule: a generated job that runs ``ingest maintain`` (issue 20).

``maintenance:`` in environment.yaml (off unless set) makes the loader (:mod:`.loader`) add one
job, ``maintain``, to the environment. Its command is ``ingest maintain --env <env>`` with the
section's ``retention``, ``grace`` and ``target_mib`` (the command's defaults where unset): every
lake table the environment's jobs write is compacted, its old snapshots expired and its orphan
files removed. It runs on the environment's own scheduler (``maintenance.mode``,
:mod:`.generated`), daily at ``maintenance.cron`` (default ``30 3 * * *``) in
``maintenance.timezone``. It has no source and no target of its own: its document is checked by
the job schema without requiring them (:data:`ingestion.config.schema.COMMAND_JOB`), then by the
same checks and policies as any job, rendered to a plan and deployed like any other. Its config
path, ``environments/<env>/jobs/maintain.yaml``, is not a file; ``ingest run`` never loads it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml

from ingestion.config import generated

NAME = "maintain"
DEFAULT_CRON = "30 3 * * *"
_OPTIONS = (("retention", "--retention"), ("grace", "--grace"), ("target_mib", "--target-mib"))


def settings_of(environment: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The ``maintenance`` section, or None when the environment has no maintenance schedule."""
    section = environment.get("maintenance")
    return section if isinstance(section, dict) else None


def command(env: str, section: Mapping[str, Any]) -> list[str]:
    """The argv the schedule runs."""
    argv = ["ingest", "maintain", "--env", env]
    for key, flag in _OPTIONS:
        if key in section:
            argv += [flag, str(section[key])]
    return argv


def document(
    env: str, environment: Mapping[str, Any], section: Mapping[str, Any]
) -> dict[str, Any]:
    """The maintenance job's config, as a job file would hold it (before ``defaults``)."""
    return {
        "name": NAME,
        "description": "Lake maintenance: compact small files, expire old snapshots, "
        "remove orphan files (ingest maintain).",
        "runtime": {
            "orchestration": generated.orchestration(
                environment, section, DEFAULT_CRON, command(env, section)
            )
        },
    }


def text(env: str, environment: Mapping[str, Any], section: Mapping[str, Any]) -> bytes:
    """The maintenance job's config as YAML bytes (what its diagnostics and digest are of)."""
    return yaml.safe_dump(document(env, environment, section), sort_keys=False).encode()
