"""The canonical spec of a Temporal schedule, from a plan and from ``describe``, in one shape.

Both sides land in the same JSON-ready mapping, so an in-sync schedule compares equal::

    action:   workflow, workflow_id, task_queue, retry_policy, args (the plan, git fields removed)
    calendar: cron (canonical text, see :mod:`cron`), timezone, jitter_seconds
    policy:   catchup_window_seconds, overlap
    state:    paused (None in a desired spec = keep the operator's choice)

The spec holds everything needed to (re)create the schedule (:func:`to_schedule`), which is what
a rollback re-applies. The plan's git revision stays out of ``args`` (a commit that does not
change a job must not change its schedule); it is kept in ``meta`` instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio.client import (
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleDescription,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleState,
)
from temporalio.common import RetryPolicy
from temporalio.converter import DataConverter

from reconciler.backends.temporal import cron

GIT_FIELDS = ("git_revision", "git_dirty")
PAUSED_NOTE = "paused by Salam: the job config sets schedule.paused: true"
UNPAUSED_NOTE = "unpaused by Salam: the job config sets schedule.paused: false"
# a move between schedulers (reconciler.move): created paused, resumed at the switch. A schedule
# still paused with MOVE_NOTE is a move that stopped before its switch (the process was killed):
# not the config's pause, so it is reported as paused drift instead of passing as in sync.
MOVE_NOTE = (
    "paused by Salam for a move between schedulers, to be resumed at the switch; still paused: "
    "the move did not finish (check the old schedule is gone, then unpause this one)"
)
RESUMED_NOTE = "resumed by Salam at the switch of a move between schedulers"
_OVERLAP = {policy.name.lower(): policy for policy in ScheduleOverlapPolicy}
_OVERLAP_NAMES = {policy.value: name for name, policy in _OVERLAP.items()}


def plan_args(plan: Mapping[str, Any]) -> dict[str, Any]:
    """The plan as the workflow receives it: everything but the git stamp."""
    args = dict(plan)
    args["bookkeeping"] = {
        k: v for k, v in plan.get("bookkeeping", {}).items() if k not in GIT_FIELDS
    }
    return args


def desired(plan: Mapping[str, Any]) -> dict[str, Any]:
    """The canonical spec of a plan's schedule."""
    schedule, temporal = plan["schedule"], plan["temporal"]
    paused = schedule.get("paused")
    return {
        "action": {
            "workflow": temporal["workflow"],
            "workflow_id": plan["schedule_id"],
            "task_queue": temporal["task_queue"],
            "retry_policy": dict(sorted(temporal["retry_policy"].items())),
            "args": [plan_args(plan)],
        },
        "calendar": {
            "cron": cron.normalise(schedule["cron"]),
            "timezone": schedule.get("timezone") or "UTC",
            "jitter_seconds": int(schedule.get("jitter_seconds", 0)),
        },
        "policy": {
            "catchup_window_seconds": int(schedule["catchup_window_seconds"]),
            "overlap": schedule.get("overlap", "skip"),
        },
        "state": {"paused": None if paused is None else bool(paused)},
    }


def live(description: ScheduleDescription, converter: DataConverter) -> dict[str, Any]:
    """The canonical spec of a described schedule."""
    schedule = description.schedule
    return {
        "action": _live_action(schedule.action, converter),
        "calendar": _live_calendar(schedule.spec),
        "policy": {
            "catchup_window_seconds": _seconds(schedule.policy.catchup_window),
            "overlap": _overlap_name(schedule.policy.overlap),
        },
        "state": {"paused": bool(schedule.state.paused)},
    }


def observed(description: ScheduleDescription) -> dict[str, Any]:
    """What the server reports about the schedule's runs (``LiveResource.observed``)."""
    info = description.info
    return {
        "created_at": _iso(info.created_at),
        "next_runs": [_iso(moment) for moment in info.next_action_times[:3]],
        "recent_runs": [
            {
                "scheduled_at": _iso(result.scheduled_at),
                "started_at": _iso(result.started_at),
                "workflow_id": getattr(result.action, "workflow_id", None),
            }
            for result in info.recent_actions
        ],
        "running": len(info.running_actions),
        "missed_catchup_window": info.num_actions_missed_catchup_window,
        "skipped_overlap": info.num_actions_skipped_overlap,
        "pause_note": description.schedule.state.note or None,
    }


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat() if moment else None


def operator_paused(description: ScheduleDescription) -> bool:
    """Paused by someone other than Salam (an operator in the UI or CLI)."""
    state = description.schedule.state
    return bool(state.paused) and (state.note or "") != PAUSED_NOTE


def to_schedule(spec: Mapping[str, Any], keep: ScheduleState | None = None) -> Schedule:
    """The Temporal schedule of a canonical spec; ``keep`` is the live state a None pause keeps."""
    action, calendar, policy = spec["action"], spec["calendar"], spec["policy"]
    return Schedule(
        action=ScheduleActionStartWorkflow(
            action["workflow"],
            args=list(action["args"]),
            id=action["workflow_id"],
            task_queue=action["task_queue"],
            retry_policy=_retry_policy(action["retry_policy"]),
        ),
        spec=ScheduleSpec(
            cron_expressions=[calendar["cron"]],
            time_zone_name=calendar["timezone"],
            jitter=timedelta(seconds=calendar["jitter_seconds"]),
        ),
        policy=SchedulePolicy(
            overlap=_OVERLAP[policy["overlap"]],
            catchup_window=timedelta(seconds=policy["catchup_window_seconds"]),
        ),
        state=state_of(spec["state"].get("paused"), keep, spec["state"].get("note")),
    )


def state_of(
    paused: bool | None, keep: ScheduleState | None, note: str | None = None
) -> ScheduleState:
    """The schedule state for a desired pause: None keeps ``keep``; a change carries a note
    (``note``, when a move sets one; else the config's)."""
    if paused is None:
        return ScheduleState(note=keep.note, paused=keep.paused) if keep else ScheduleState()
    if keep is not None and bool(keep.paused) == paused:
        return ScheduleState(note=keep.note, paused=paused)
    return ScheduleState(note=note or (PAUSED_NOTE if paused else UNPAUSED_NOTE), paused=paused)


def _retry_policy(policy: Mapping[str, Any] | None) -> RetryPolicy | None:
    if policy is None:
        return None
    return RetryPolicy(
        initial_interval=timedelta(seconds=policy["initial_interval_seconds"]),
        maximum_interval=timedelta(seconds=policy["maximum_interval_seconds"]),
        maximum_attempts=int(policy["maximum_attempts"]),
        backoff_coefficient=float(policy["backoff_coefficient"]),
    )


def _live_action(action: object, converter: DataConverter) -> dict[str, Any] | str:
    if not isinstance(action, ScheduleActionStartWorkflow):
        return f"not a start-workflow action ({type(action).__name__})"
    return {
        "workflow": action.workflow,
        "workflow_id": action.id,
        "task_queue": action.task_queue,
        "retry_policy": _live_retry(action.retry_policy),
        "args": _decode(action.args, converter),
    }


def _live_retry(policy: RetryPolicy | None) -> dict[str, Any] | None:
    if policy is None:
        return None
    return {
        "backoff_coefficient": policy.backoff_coefficient,
        "initial_interval_seconds": _seconds(policy.initial_interval),
        "maximum_attempts": policy.maximum_attempts,
        "maximum_interval_seconds": _seconds(policy.maximum_interval),
    }


def _decode(args: Any, converter: DataConverter) -> list[Any] | str:
    try:
        return list(converter.payload_converter.from_payloads(list(args)))
    except Exception as exc:  # a hand-made schedule may carry anything
        return f"undecodable arguments ({type(exc).__name__})"


def _live_calendar(spec: ScheduleSpec) -> dict[str, Any]:
    text = _live_cron(spec)
    if text is None:
        shape = f"{len(spec.calendars)} calendars, {len(spec.intervals)} intervals"
        text = f"not a single cron line ({shape})"
    return {
        "cron": text,
        "timezone": spec.time_zone_name or "UTC",
        "jitter_seconds": _seconds(spec.jitter),
    }


def _live_cron(spec: ScheduleSpec) -> str | None:
    if spec.intervals or spec.skip or spec.start_at or spec.end_at:
        return None
    if spec.cron_expressions:
        return None if spec.calendars else _from_cron_list(spec.cron_expressions)
    return cron.from_calendars(spec.calendars)


def _from_cron_list(expressions: Any) -> str | None:
    try:
        return cron.normalise(expressions[0]) if len(expressions) == 1 else None
    except cron.CronError:
        return None


def _seconds(value: timedelta | None) -> int:
    return round(value.total_seconds()) if value else 0


def _overlap_name(policy: ScheduleOverlapPolicy | int) -> str:
    return _OVERLAP_NAMES.get(int(policy), "skip")  # 0 (unspecified) means skip on the server
