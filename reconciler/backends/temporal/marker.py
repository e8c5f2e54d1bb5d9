"""Salam's ownership marker on a Temporal schedule, and where its digest and revision live.

Ownership is the memo (``salam.managed-by``, ``salam.env``, ``salam.job``), written once at
create: the memo cannot be updated, so nothing that changes lives there. The plan digest and git
revision live in two Keyword search attributes (``SalamDigest``, ``SalamRevision``), which
updates can rewrite and ``list`` returns; :func:`ensure_attributes` registers them on a fresh
namespace. Where registering is not allowed, the backend works without them (``meta`` empty).
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


def memo(environment: str, job: str) -> dict[str, str]:
    return {MEMO_MANAGED_BY: MANAGED_BY, MEMO_ENV: environment, MEMO_JOB: job}


def owned(values: Mapping[str, Any], environment: str) -> bool:
    """True when a schedule's memo marks it as Salam's, for ``environment``."""
    return values.get(MEMO_MANAGED_BY) == MANAGED_BY and values.get(MEMO_ENV) == environment


def attributes(
    meta: Mapping[str, str], base: TypedSearchAttributes | None = None
) -> TypedSearchAttributes:
    """``base`` (a schedule's other search attributes) with Salam's digest and revision set."""
    pairs = [
        SearchAttributePair(DIGEST, meta.get("digest", "")),
        SearchAttributePair(REVISION, meta.get("revision", "")),
    ]
    return (base or TypedSearchAttributes.empty).updated(*pairs)


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
            for key in (DIGEST, REVISION)
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
