"""The release record: evidence of what an environment runs, written by the engine after an apply
that verified clean (or a run that found the environment in sync) and read by
``reconcile promote``.

``<state dir>/<env>/release.json`` holds one canonical JSON document: the environment, the git
revision applied (and whether it was dirty), the apply id and time, the Kubernetes image (by
digest) and every plan's digest. It is written only for a run over the whole environment (no
``--job`` / ``--backend`` filter), atomically, beside the audit log; a CI pipeline keeps it as
a build artifact of the apply and hands it to the promotion (``--release FILE``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ingestion.plan import canonical
from reconciler import atomicfile

FILENAME = "release.json"
FORMAT = 1


class ReleaseError(Exception):
    """A release record cannot be read; the message says which file and why."""


@dataclass(frozen=True)
class Release:
    """What one environment ran, as its last clean run left it."""

    environment: str
    revision: str | None
    dirty: bool
    apply_id: str | None  # None: the run found the environment in sync and changed nothing
    image: str | None
    plans: Mapping[str, str] = field(default_factory=dict)  # job -> plan digest
    time: str = ""
    format: int = FORMAT

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "plans": dict(sorted(self.plans.items()))}


def of_run(
    env: str,
    revision: tuple[str | None, bool],
    apply_id: str | None,
    settings: Mapping[str, Any],
    plans: Mapping[str, Mapping[str, Any]],
) -> Release:
    """The release a clean run over the whole environment leaves: ``revision`` is (rev, dirty)."""
    image = settings.get("kubernetes", {}).get("image")
    return Release(
        env,
        revision[0],
        revision[1],
        apply_id,
        str(image) if image else None,
        {job: str(plan["bookkeeping"]["digest"]) for job, plan in plans.items()},
        datetime.now(UTC).isoformat(timespec="seconds"),
    )


def write(directory: Path, release: Release) -> Path:
    path = directory / FILENAME
    atomicfile.write(path, canonical.dumps(release.to_json()).encode())
    return path


def read(path: Path) -> Release | None:
    """The release record at ``path``; None when there is none."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Release(**{**data, "plans": dict(data["plans"])})
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise ReleaseError(f"{path} is not a release record: {exc}") from exc
