"""Salam's ownership marker on a Temporal schedule, and where its digest and revision live.

Ownership is the memo (``salam.managed-by``, ``salam.env``, ``salam.job``), written once at create:
the memo cannot be updated, so nothing that changes lives there. A schedule Salam did not create but
adopted (the server refuses memo updates on schedules) is marked instead by the Keyword search
attribute ``SalamOwner`` = ``<env>/<job>``, which ``list`` returns too. The plan digest and git
revision live in two Keyword search attributes (``SalamDigest``, ``SalamRevision``), which updates
can rewrite and ``list`` returns; :func:`ensure_attributes` registers them on a fresh namespace.
Where registering is not allowed, the backend works without them (``meta`` empty).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.client import Client
from temporalio.common import SearchAttributeKey, SearchAttributePair, TypedSearchAttributes
from temporalio.service import RPCError, RPCStatusCode

MANAGED_BY = "salam"
MEMO_MANAGED_BY = "salam.managed-by"
MEMO_ENV = "salam.env"
MEMO_JOB = "salam.job"
DIGEST = SearchAttributeKey.for_keyword("SalamDigest")
REVISION = SearchAttributeKey.for_keyword("SalamRevision")
OWNER = SearchAttributeKey.for_keyword("SalamOwner")  # "<env>/<job>" on an adopted schedule


class NotOwned(Exception):
    """The schedule exists but is not Salam's for this environment."""


def memo(environment: str, job: str) -> dict[str, str]:
    return {MEMO_MANAGED_BY: MANAGED_BY, MEMO_ENV: environment, MEMO_JOB: job}


def owned(
    values: Mapping[str, Any], environment: str, found: TypedSearchAttributes | None = None
) -> bool:
    """True when a schedule's memo (or, adopted, its ``SalamOwner``) marks it as Salam's, for
    ``environment``."""
    if values.get(MEMO_MANAGED_BY) == MANAGED_BY and values.get(MEMO_ENV) == environment:
        return True
    return (found.get(OWNER) or "").partition("/")[0] == environment if found else False


def marked(values: Mapping[str, Any], found: TypedSearchAttributes) -> str | None:
    """The environment whose Salam marker the schedule carries (any), or None."""
    if values.get(MEMO_MANAGED_BY) == MANAGED_BY:
        return str(values.get(MEMO_ENV))
    return (found.get(OWNER) or "").partition("/")[0] or None


def job_of(values: Mapping[str, Any], found: TypedSearchAttributes) -> str:
    """The job named by the marker (memo, else ``SalamOwner``), or ``""``."""
    return str(values.get(MEMO_JOB) or (found.get(OWNER) or "").partition("/")[2])


def owner(environment: str, job: str) -> SearchAttributePair[str]:
    """The ``SalamOwner`` pair an adopt writes."""
    return SearchAttributePair(OWNER, f"{environment}/{job}")


def attributes(
    meta: Mapping[str, str], base: TypedSearchAttributes | None = None
) -> TypedSearchAttributes:
    """``base`` (a schedule's other search attributes) with Salam's digest and revision set."""
    pairs = [
        SearchAttributePair(DIGEST, meta.get("digest", "")),
        SearchAttributePair(REVISION, meta.get("revision", "")),
    ]
    return (base or TypedSearchAttributes.empty).updated(*pairs)


def without(found: TypedSearchAttributes) -> TypedSearchAttributes:
    """``found`` without Salam's search attributes (an adopted schedule given back)."""
    ours = {DIGEST.name, REVISION.name, OWNER.name}
    return TypedSearchAttributes([pair for pair in found if pair.key.name not in ours])


def meta_of(found: TypedSearchAttributes) -> dict[str, str]:
    return {"digest": found.get(DIGEST) or "", "revision": found.get(REVISION) or ""}


async def ensure_attributes(client: Client, namespace: str) -> bool:
    """Register Salam's search attributes in ``namespace`` if missing; False if not allowed."""
    service = client.operator_service
    try:
        listed = await service.list_search_attributes(
            ListSearchAttributesRequest(namespace=namespace)
        )
        missing = {
            key.name: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD
            for key in (DIGEST, REVISION, OWNER)
            if key.name not in listed.custom_attributes
        }
        if missing:
            await service.add_search_attributes(
                AddSearchAttributesRequest(namespace=namespace, search_attributes=missing)
            )
    except RPCError as exc:
        if exc.status in (RPCStatusCode.PERMISSION_DENIED, RPCStatusCode.UNIMPLEMENTED):
            return False
        raise
    return True
