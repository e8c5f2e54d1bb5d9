"""Taking over a Temporal schedule Salam does not own yet, in place: the ``adopt`` action (and
:func:`release`, its undo when the apply is rolled back).

The backend calls :func:`adopt` for an ``adopt`` change. The server refuses memo updates on
schedules, so an adopted schedule is marked by the ``SalamOwner`` search attribute
(:mod:`~reconciler.backends.temporal.marker`): one ``UpdateSchedule`` request carries the desired
schedule (the live state kept where the config leaves the pause unset) and the schedule's search
attributes with Salam's added, under the conflict token of the ``describe`` it was computed
from, so a schedule changed in between fails the request and nothing is written. Without
Salam's search attributes registered (not allowed in the namespace) nothing can mark it: the
adopt fails, nothing written. The
schedule id, its running workflows and its action history stay: nothing is deleted or
recreated. A schedule that already carries a Salam marker (another environment's) is refused
with :class:`~reconciler.backends.temporal.marker.NotOwned`.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from temporalio.api.workflowservice.v1 import UpdateScheduleRequest
from temporalio.client import Client
from temporalio.converter import encode_search_attributes

from reconciler.backends.temporal import marker, spec
from reconciler.model import DesiredResource


async def adopt(
    client: Client,
    resource: DesiredResource,
    environment: str,
    with_attributes: bool,
    timeout: timedelta,
) -> None:
    """Write ``resource`` over the live schedule at its id, with Salam's marker added."""
    handle = client.get_schedule_handle(resource.key.name)
    description = await handle.describe(rpc_timeout=timeout)
    found = description.typed_search_attributes
    other = marker.marked(await description.memo(), found)
    if other:
        raise marker.NotOwned(
            f"schedule '{description.id}' carries Salam's marker of environment '{other}'; "
            "it is not adopted"
        )
    if not with_attributes:
        raise marker.NotOwned(
            f"schedule '{description.id}' cannot be marked as Salam's: Salam's search "
            f"attributes are not registered in namespace '{client.namespace}'"
        )
    schedule = spec.to_schedule(resource.spec, keep=description.schedule.state)
    request = UpdateScheduleRequest(
        namespace=client.namespace,
        schedule_id=description.id,
        schedule=await schedule._to_proto(client),  # the SDK's own conversion
        conflict_token=description.raw_description.conflict_token,
        identity=client.identity,
        request_id=str(uuid.uuid4()),
    )
    attributes = marker.attributes(resource.meta, found).updated(
        marker.owner(environment, resource.job)
    )
    encode_search_attributes(attributes, request.search_attributes)
    await client.workflow_service.update_schedule(request, retry=True, timeout=timeout)


async def release(client: Client, resource: DesiredResource, timeout: timedelta) -> None:
    """Give an adopted schedule back as ``resource`` says it was, without Salam's search
    attributes (a restore undoing an adopt): one ``UpdateSchedule`` whose search attributes are
    the schedule's others, an empty set included."""
    handle = client.get_schedule_handle(resource.key.name)
    description = await handle.describe(rpc_timeout=timeout)
    schedule = spec.to_schedule(resource.spec, keep=description.schedule.state)
    request = UpdateScheduleRequest(
        namespace=client.namespace,
        schedule_id=description.id,
        schedule=await schedule._to_proto(client),
        conflict_token=description.raw_description.conflict_token,
        identity=client.identity,
        request_id=str(uuid.uuid4()),
    )
    request.search_attributes.SetInParent()  # present though empty: replaces, not keeps
    encode_search_attributes(
        marker.without(description.typed_search_attributes), request.search_attributes
    )
    await client.workflow_service.update_schedule(request, retry=True, timeout=timeout)
