"""A Temporal schedule Salam does not own, as ``reconcile import`` reads it: the job config's
``runtime.orchestration`` that renders the same schedule, and the argv it runs.

The backend's ``unmanaged`` calls :func:`unmanaged` with a schedule's canonical spec
(:mod:`~reconciler.backends.temporal.spec`). The schedule id becomes the job's ``workflow_id`` (so
the job's schedule is this one, to adopt); cron, zone, jitter, catch-up window, overlap, pause,
task queue, workflow and retry policy are carried over. The argv is the ``execution_command`` of
the plan the workflow receives (``args[0]``), or ``args[0]`` itself when it is a list of words. A
schedule whose calendar is not one cron line, whose action does not start a workflow, or whose
arguments name no command is returned with its ``problem``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.backends.base import Unmanaged
from reconciler.model import ResourceKey


def unmanaged(key: ResourceKey, live: Mapping[str, Any]) -> Unmanaged:
    action, calendar = live["action"], live["calendar"]
    if isinstance(action, str):
        return Unmanaged(key, problem=f"its action is {action}")
    if str(calendar["cron"]).startswith("not a single cron line"):
        return Unmanaged(key, problem=f"its calendar is {calendar['cron']}")
    argv = _argv(action.get("args"))
    if not argv:
        return Unmanaged(key, problem="its workflow arguments name no command to recognise")
    block = {
        "namespace": key.scope,
        "task_queue": action["task_queue"],
        "workflow": action["workflow"],
        "workflow_id": key.name,
        "schedule": _schedule(calendar, live["policy"], live["state"]),
    }
    if action.get("retry_policy"):
        block["retry_policy"] = dict(action["retry_policy"])
    return Unmanaged(key, {"mode": "temporal", "temporal": block}, argv=argv)


def _schedule(
    calendar: Mapping[str, Any], policy: Mapping[str, Any], state: Mapping[str, Any]
) -> dict[str, Any]:
    schedule = {
        "cron": calendar["cron"],
        "timezone": calendar["timezone"],
        "catchup_window": f"{policy['catchup_window_seconds']}s",
        "overlap": policy["overlap"],
        "paused": bool(state.get("paused")),
    }
    if calendar.get("jitter_seconds"):
        schedule["jitter"] = f"{calendar['jitter_seconds']}s"
    return schedule


def _argv(args: Any) -> tuple[str, ...]:
    first = args[0] if isinstance(args, list) and args else None
    if isinstance(first, Mapping):
        first = first.get("execution_command")
    if isinstance(first, list) and first and all(isinstance(word, str) for word in first):
        return tuple(first)
    return ()
