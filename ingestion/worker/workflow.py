"""``IngestionWorkflow``: run one plan's command as an activity; alert when the last attempt fails.

Deterministic and free of I/O (Temporal replays it): no clock, no environment, no imports with
side effects. The schedule's action carries the plan's retry policy, so one workflow run is one
attempt; the activity itself is not retried. When an attempt fails and no retry will follow
(the policy's attempts are used up, or the failure is non-retryable) the alert activity fires
before the workflow fails. Cancelling the workflow cancels the activity, which kills the command.
Each run counts its outcome (:mod:`ingestion.worker.outcomes`).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, CancelledError

from ingestion.worker import outcomes
from ingestion.worker.outcomes import Outcome

RUN_ACTIVITY = "salam.run_command"
ALERT_ACTIVITY = "salam.send_alert"
RUN_TIMEOUT = timedelta(hours=12)
HEARTBEAT_TIMEOUT = timedelta(seconds=30)
ALERT_TIMEOUT = timedelta(seconds=60)


@workflow.defn(name="IngestionWorkflow")
class IngestionWorkflow:
    """Runs ``plan["execution_command"]`` on a worker; returns the run's summary."""

    @workflow.run
    async def run(self, plan: dict[str, Any]) -> dict[str, Any]:
        try:
            summary: dict[str, Any] = await workflow.execute_activity(
                RUN_ACTIVITY,
                plan,
                start_to_close_timeout=RUN_TIMEOUT,
                heartbeat_timeout=HEARTBEAT_TIMEOUT,
                retry_policy=RetryPolicy(maximum_attempts=1),
                cancellation_type=workflow.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
            )
        except ActivityError as exc:
            if isinstance(exc.cause, CancelledError):
                outcomes.record(plan, Outcome.CANCELLED)
                raise
            await self._fail(plan, exc)
        outcomes.record(plan, Outcome.SUCCEEDED)
        return {**summary, "attempt": workflow.info().attempt}

    async def _fail(self, plan: dict[str, Any], exc: ActivityError) -> None:
        cause = exc.cause
        retryable = not (isinstance(cause, ApplicationError) and cause.non_retryable)
        summary = cause.details[0] if isinstance(cause, ApplicationError) and cause.details else {}
        message = str(cause or exc)
        final = not retryable or last_attempt(workflow.info())
        outcomes.record(plan, Outcome.FAILED if final else Outcome.RETRIED)
        if final:
            await self._alert(alert_request(plan, message, summary))
        raise ApplicationError(
            f"job '{plan.get('job')}' failed: {message}",
            summary,
            type="IngestionFailed",
            non_retryable=not retryable,
        )

    async def _alert(self, request: dict[str, Any]) -> None:
        """Fire the alert activity; an alert that cannot be delivered is logged, and the run
        still fails with the job's own error (not the alert's), retried or not as before."""
        try:
            await workflow.execute_activity(
                ALERT_ACTIVITY,
                request,
                start_to_close_timeout=ALERT_TIMEOUT,
                retry_policy=RetryPolicy(maximum_attempts=3, initial_interval=timedelta(seconds=1)),
            )
        except ActivityError as exc:
            workflow.logger.warning(
                "job %s: alert not delivered: %s", request["plan"].get("job"), exc.cause
            )


def last_attempt(info: workflow.Info) -> bool:
    """True when no retry of this workflow run will follow a failure."""
    policy = info.retry_policy
    if policy is None:
        return True
    return policy.maximum_attempts > 0 and info.attempt >= policy.maximum_attempts


def alert_request(plan: dict[str, Any], message: str, summary: dict[str, Any]) -> dict[str, Any]:
    info = workflow.info()
    return {
        "plan": plan,
        "error": message,
        "summary": summary,
        "attempt": info.attempt,
        "workflow_id": info.workflow_id,
        "run_id": info.run_id,
    }
