"""Resolve secret references at run time: ``env:NAME`` and ``file:/path`` locally.

``vault:`` and ``k8s-secret:`` references need their provider, which is not reachable from
this process: they end the run with a clear terminal error. Errors name the reference, never a
value.
"""

from __future__ import annotations

import os
from pathlib import Path

from ingestion.job.errors import JobError, RunExit

STAGE = "credentials"


def resolve(reference: str) -> str:
    """The secret ``reference`` points to."""
    scheme, _, rest = reference.partition(":")
    if scheme == "env":
        return _from_env(reference, rest)
    if scheme == "file":
        return _from_file(reference, Path(rest))
    if scheme in ("vault", "k8s-secret"):
        raise JobError(
            STAGE,
            f"secret reference '{reference}': the {scheme} provider is not reachable from here",
            "run where the provider injects the secret (e.g. as env: or file:), "
            "or reference it as env:NAME / file:/path",
            RunExit.INVALID,
        )
    raise JobError(
        STAGE,
        f"'{reference}' is not a secret reference",
        "write env:NAME, file:/path, vault:path#key or k8s-secret:name/key",
        RunExit.INVALID,
    )


def _from_env(reference: str, name: str) -> str:
    value = os.environ.get(name)
    if value is None:
        raise JobError(
            STAGE,
            f"secret reference '{reference}': environment variable {name} is not set",
            f"export {name} before the run",
            RunExit.INVALID,
        )
    return value


def _from_file(reference: str, path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").rstrip("\r\n")
    except OSError as exc:
        raise JobError(
            STAGE,
            f"secret reference '{reference}': cannot read the file ({exc.strerror})",
            "check the path and its permissions",
            RunExit.INVALID,
        ) from None
