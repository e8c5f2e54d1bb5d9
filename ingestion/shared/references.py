"""Resolve secret references where the process runs: ``env:NAME`` and ``file:/path``.

The one resolver of Salam, used by the ingestion job (JDBC user and password, events webhook,
through :mod:`ingestion.job.credentials`), the worker (alert webhook, SMTP password), the
Temporal connection (TLS files, API key) and the reconciler (drift webhook). ``vault:`` and
``k8s-secret:`` references need a provider this process does not have.

One whitespace rule: :func:`resolve_text` takes an environment variable exactly as set, and a
file without its trailing line break(s) (``\\r`` / ``\\n``, what ``echo x > file`` adds);
:func:`resolve_bytes` (certificates, keys) returns either exactly. Anything that cannot be
resolved raises :class:`UnresolvedReference`, whose message names the reference and never a
value, and whose ``hint`` says what to do.
"""

from __future__ import annotations

import os
from pathlib import Path

_PROVIDERS = ("vault", "k8s-secret")


class UnresolvedReference(Exception):
    """A reference that cannot be resolved here; the message names it, never a value."""

    def __init__(self, reference: str, message: str, hint: str) -> None:
        super().__init__(message)
        self.reference = reference
        self.message = message
        self.hint = hint


def resolve_text(reference: str) -> str:
    """The secret ``reference`` points at, as text: env exactly, a file without trailing CR/LF."""
    scheme, _, rest = reference.partition(":")
    if scheme == "env":
        return _from_env(reference, rest)
    try:
        return resolve_bytes(reference).decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError:  # its message quotes a byte of the secret: not chained
        raise UnresolvedReference(
            reference,
            f"secret reference '{reference}': the file is not UTF-8 text",
            "write the secret as UTF-8 text",
        ) from None


def resolve_bytes(reference: str) -> bytes:
    """The secret ``reference`` points at, exactly as stored (TLS certificates and keys)."""
    scheme, _, rest = reference.partition(":")
    if scheme == "env":
        return os.fsencode(_from_env(reference, rest))
    if scheme == "file":
        return _from_file(reference, Path(rest))
    if scheme in _PROVIDERS:
        raise UnresolvedReference(
            reference,
            f"secret reference '{reference}': the {scheme} provider is not reachable from here",
            "run where the provider injects the secret (e.g. as env: or file:), "
            "or reference it as env:NAME / file:/path",
        )
    # not a reference: perhaps a literal secret, so only its (short) scheme is named
    named = f"'{scheme[:20]}:'" if rest else "a value without a scheme"
    raise UnresolvedReference(
        reference,
        f"{named} is not a secret reference",
        "write env:NAME, file:/path, vault:path#key or k8s-secret:name/key",
    )


def _from_env(reference: str, name: str) -> str:
    value = os.environ.get(name)
    if value is None:
        raise UnresolvedReference(
            reference,
            f"secret reference '{reference}': environment variable {name} is not set",
            f"export {name} before the run",
        )
    return value


def _from_file(reference: str, path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise UnresolvedReference(
            reference,
            f"secret reference '{reference}': cannot read the file "
            f"({exc.strerror or type(exc).__name__})",
            "check the path and its permissions",
        ) from exc
