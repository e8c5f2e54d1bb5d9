"""The pin ``reconcile rollback --to REV`` leaves in the environment's state directory.

While ``<state dir>/<env>/pin.json`` exists the controller renders the pinned revision instead
of the branch head, so it does not undo the rollback. The pin lifts when git catches up — the
head renders the same plans as the pinned revision (plan digests, git bookkeeping excluded) —
or with ``reconcile rollback --env E --unpin``. Written atomically; a pin file that cannot be
read is an error, never silently "not pinned".
"""

from __future__ import annotations

import contextlib
import getpass
import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ingestion.plan import canonical
from ingestion.plan import environment as plans_of
from reconciler import atomicfile, revision

FILE = "pin.json"


class PinError(Exception):
    """The pin file exists but cannot be read."""


@dataclass(frozen=True)
class Pin:
    revision: str  # the full commit id
    requested: str  # as the operator wrote it (a tag, a short id)
    since: str
    user: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def write(state_dir: Path, commit: str, requested: str) -> Pin:
    """Pin the environment whose state directory is ``state_dir`` to ``commit``."""
    pin = Pin(commit, requested, datetime.now(UTC).isoformat(timespec="seconds"), getpass.getuser())
    data = json.dumps(pin.to_json(), sort_keys=True, indent=2) + "\n"
    atomicfile.write(state_dir / FILE, data.encode())
    return pin


def read(state_dir: Path) -> Pin | None:
    """The environment's pin, or None when it is not pinned."""
    path = state_dir / FILE
    try:
        raw = json.loads(path.read_text())
        return Pin(raw["revision"], raw["requested"], raw["since"], raw["user"])
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise PinError(f"cannot read the pin {path}: {exc}") from exc


def lift(state_dir: Path) -> bool:
    """Remove the pin; whether there was one."""
    path = state_dir / FILE
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
        atomicfile.fsync_directory(path.parent)
        return True
    return False


def caught_up(root: Path, env: str, overrides: tuple[str, ...], pinned: str, head: str) -> bool:
    """Whether the head renders the same plans as the pinned revision (git bookkeeping aside)."""
    return pinned == head or _digests(root, env, overrides, pinned) == _digests(
        root, env, overrides, head
    )


def _digests(root: Path, env: str, overrides: tuple[str, ...], commit: str) -> dict[str, str]:
    environment, stamp = revision.environment_at(root, env, commit, overrides)
    plans = plans_of.render_all(environment, git=stamp)
    return {job: canonical.digest(plan) for job, plan in plans.items()}
