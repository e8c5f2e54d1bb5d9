"""The job's ``credentials`` stage: a secret reference resolved, or a terminal :class:`JobError`.

A thin adapter over :mod:`ingestion.shared.references` (the one resolver, with its whitespace
rule: ``env:`` exactly, ``file:`` without trailing line breaks), called by
:mod:`ingestion.job.source` for the JDBC user and password and by :func:`catalog_properties` for
the lake catalog's (``lake.catalog.user_ref`` / ``password_ref``, put into the catalog URI here,
at run time only). A reference that cannot be resolved here (unset variable, unreadable file, a
``vault:`` or ``k8s-secret:`` provider this process does not have) ends the run as invalid
(exit 3), with the resolver's hint. Errors name the reference, never a value; every resolved
value is remembered by :func:`ingestion.job.errors.remember_secret`, so that no error shows it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlsplit

from ingestion.job.errors import JobError, RunExit, remember_secret
from ingestion.shared import references

STAGE = "credentials"
_CATALOG_CREDENTIALS = ("user", "user_ref", "password_ref")


def resolve(reference: str) -> str:
    """The secret ``reference`` points to, as text."""
    try:
        value = references.resolve_text(reference)
    except references.UnresolvedReference as exc:
        raise JobError(STAGE, exc.message, exc.hint, RunExit.INVALID) from None
    remember_secret(value)
    return value


def catalog_properties(catalog: Mapping[str, Any]) -> dict[str, str]:
    """The pyiceberg properties of ``lake.catalog``, its user and password (resolved from their
    references) put into ``uri``: what the catalog connects with, never shown anywhere."""
    props = {k: str(v) for k, v in catalog.items() if k not in _CATALOG_CREDENTIALS}
    user = resolve(catalog["user_ref"]) if catalog.get("user_ref") else catalog.get("user")
    password = resolve(catalog["password_ref"]) if catalog.get("password_ref") else None
    if user or password:
        props["uri"] = with_credentials(props.get("uri", ""), user, password)
    return props


def with_credentials(uri: str, user: str | None, password: str | None) -> str:
    """``uri`` with ``user`` and ``password`` (URL-quoted) as its user information."""
    parts = urlsplit(uri)
    if not parts.scheme or not parts.netloc:
        raise JobError(
            "config",
            "lake.catalog.user / user_ref / password_ref need a lake.catalog.uri with a host",
            "write the URI as scheme://host[:port]/database, e.g. postgresql+psycopg://db:5432/lake",
            RunExit.INVALID,
        )
    host = parts.netloc.rpartition("@")[2]
    user = user or parts.username or ""
    info = quote(user, safe="") + (f":{quote(password, safe='')}" if password else "")
    return parts._replace(netloc=f"{info}@{host}").geturl()
