"""The worker's activities: run a plan's command as a subprocess, and send failure alerts.

``run_command`` starts ``plan["execution_command"]`` in its own process group under the
environment's workdir, streams its output to the log, heartbeats while it runs and stops the
whole group when the activity is cancelled (workflow cancelled, heartbeat timed out, worker
shutting down): SIGTERM, then SIGKILL after a short grace, so a cancelled job is gone within
about two seconds. Its summary carries the exit code, the duration and the counts of the
ingestion events the job printed (event lines and traces, :mod:`ingestion.shared.lineage`). The
job gets the workflow run id as its run id (``SALAM_RUN_ID``) and a fresh OpenLineage run id per
attempt (``SALAM_LINEAGE_RUN_ID``); when it printed a START and ended without closing that run
(killed, cancelled, timed out), :mod:`endings` sends the FAIL or ABORT. A job that exits non-zero
is one log line and a failed activity (no traceback): ``ingest run``'s 1 (terminal) and 3
(invalid config) are not retried, 75 (transient) and anything else follow the plan's retry
policy. ``send_alert`` resolves the plan's alert references here, on the worker, and posts /
mails them (:mod:`alerts`).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory

from ingestion.shared import lineage
from ingestion.worker import alerts, endings
from ingestion.worker.workflow import ALERT_ACTIVITY, RUN_ACTIVITY

log = logging.getLogger("salam.worker")
# ``ingest run``'s failure exit codes (README "The ingestion job"): what each means and whether
# a retry can succeed; any other code is unexpected and retried per the plan
FAILURES = {
    1: ("terminal failure", False),
    3: ("invalid config or secret reference", False),
    75: ("transient failure", True),
}


@dataclass(frozen=True)
class Settings:
    """What the activities need from the environment; ``smtp`` is None when not configured."""

    environment: str
    workdir: Path
    smtp: dict[str, Any] | None = None
    heartbeat_every: float = 0.5
    kill_grace: float = 1.0
    extra_env: dict[str, str] = field(default_factory=dict)
    events: dict[str, Any] = field(default_factory=dict)  # environment.yaml's `events`
    root: Path | None = None  # the project root a file sink's path is relative to


class Activities:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @activity.defn(name=RUN_ACTIVITY)
    async def run_command(self, plan: dict[str, Any]) -> dict[str, Any]:
        self._check_environment(plan)
        argv = [str(arg) for arg in plan["execution_command"]]
        started = time.monotonic()
        env = self._env(plan)
        try:
            process = await asyncio.create_subprocess_exec(
                *argv,
                cwd=self.settings.workdir,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,
                env=env,
            )
        except OSError as exc:
            message = f"cannot start '{argv[0]}': {exc.strerror}"
            log.error("job %s: %s; not retried", plan.get("job"), message)
            raise ApplicationError(
                message,
                {"exit_code": 127, "duration_seconds": 0.0, "events": {}},
                type="CommandNotStarted",
                non_retryable=True,
                category=ApplicationErrorCategory.BENIGN,
            ) from None
        events: collections.Counter[str] = collections.Counter()
        watch = endings.Watch(env[lineage.LINEAGE_RUN_ID_ENV])
        reader = asyncio.create_task(_stream(process, str(plan.get("job")), events, watch))
        try:
            code = await self._wait(process)
            await reader
        except asyncio.CancelledError:
            log.warning(
                "job %s: cancelled, stopping process group %d", plan.get("job"), process.pid
            )
            await _kill(process, self.settings.kill_grace)
            await asyncio.wait({reader}, timeout=2.0)  # what it printed before it died
            reader.cancel()
            await self._close(plan, watch, _cancelled())
            raise
        await self._close(plan, watch, endings.Ending("FAIL", _ended(code)))
        return _summary(str(plan.get("job")), code, started, events)

    @activity.defn(name=ALERT_ACTIVITY)
    async def send_alert(self, request: dict[str, Any]) -> dict[str, Any]:
        details = activity.info().heartbeat_details
        already_sent = list(details[0]) if details else []
        try:
            return await asyncio.to_thread(alerts.send, request, self.settings.smtp, already_sent)
        except alerts.AlertsFailed as exc:
            activity.heartbeat(exc.sent)  # the retry sends only the channels that failed
            raise

    async def _wait(self, process: asyncio.subprocess.Process) -> int:
        """The command's exit code; heartbeats meanwhile (their replies carry a cancellation)."""
        waiting = asyncio.ensure_future(process.wait())
        while True:
            done, _ = await asyncio.wait({waiting}, timeout=self.settings.heartbeat_every)
            if done:
                return waiting.result()
            activity.heartbeat({"pid": process.pid})

    def _check_environment(self, plan: dict[str, Any]) -> None:
        if plan.get("environment") != self.settings.environment:
            raise ApplicationError(
                f"plan of environment '{plan.get('environment')}' sent to the worker of "
                f"'{self.settings.environment}'",
                type="WrongEnvironment",
                non_retryable=True,
            )

    async def _close(
        self, plan: dict[str, Any], watch: endings.Watch, ending: endings.Ending
    ) -> None:
        """Send the terminal event of a job process that printed a START and did not end it."""
        if not watch.open:
            return
        info = activity.info()
        parent = lineage.temporal_parent(
            info.workflow_namespace or "", info.workflow_id or "", info.workflow_run_id or ""
        )
        job = {"environment": self.settings.environment, "job": str(plan.get("job"))}
        root = self.settings.root or self.settings.workdir
        # in a thread: a webhook sink may take seconds, and other activities heartbeat meanwhile
        await asyncio.to_thread(
            endings.close, self.settings.events, root, watch, job, parent, ending
        )

    def _env(self, plan: dict[str, Any]) -> dict[str, str]:
        info = activity.info()
        return {
            **os.environ,
            **self.settings.extra_env,
            "SALAM_ENV": self.settings.environment,
            "SALAM_JOB": str(plan.get("job")),
            "SALAM_RUN_ID": info.workflow_run_id or "",
            "SALAM_WORKFLOW_ID": info.workflow_id or "",
            "SALAM_ATTEMPT": str(info.attempt),
            lineage.TEMPORAL_NAMESPACE_ENV: info.workflow_namespace or "",
            lineage.LINEAGE_RUN_ID_ENV: lineage.uuid7(),  # one OpenLineage run per attempt
        }


def _summary(
    job: str, code: int, started: float, events: collections.Counter[str]
) -> dict[str, Any]:
    """The run's summary; a non-zero exit is logged once and raised as a failed activity."""
    summary = {
        "exit_code": code,
        "duration_seconds": round(time.monotonic() - started, 3),
        "events": dict(sorted(events.items())),
    }
    if code == 0:
        return summary
    meaning, retryable = FAILURES.get(code, (_unexpected(code), True))
    log.log(
        logging.WARNING if code in FAILURES else logging.ERROR,
        "job %s: command exited with code %s (%s) after %.1fs%s",
        job,
        code,
        meaning,
        summary["duration_seconds"],
        "" if retryable else "; not retried",
    )
    raise ApplicationError(
        f"command exited with code {code} ({meaning})",
        summary,
        type="CommandFailed",
        non_retryable=not retryable,
        category=ApplicationErrorCategory.BENIGN,  # logged above: the SDK adds no traceback
    )


def _unexpected(code: int) -> str:
    return f"killed by signal {-code}" if code < 0 else "unexpected exit code"


def _cancelled() -> endings.Ending:
    """ABORT when the workflow asked for the cancel; FAIL for a timeout or a worker shutdown."""
    details = activity.cancellation_details()
    if details is None or details.cancel_requested:
        return endings.Ending("ABORT", "was stopped by the worker: the workflow was cancelled")
    why = "heartbeat or run timeout" if details.timed_out else "worker shutdown"
    if not (details.timed_out or details.worker_shutdown):
        why = "activity cancelled by the server"
    return endings.Ending("FAIL", f"was stopped by the worker: {why}")


def _ended(code: int) -> str:
    return f"was killed by signal {-code}" if code < 0 else f"exited with code {code}"


async def _stream(
    process: asyncio.subprocess.Process,
    job: str,
    events: collections.Counter[str],
    watch: endings.Watch,
) -> None:
    """Log every output line; count the ingestion events among them."""
    assert process.stdout is not None
    async for raw in process.stdout:
        line = raw.decode(errors="replace").rstrip()
        log.info("job %s | %s", job, line)
        event = watch.observe(line)
        if event:
            events[event] += 1


async def _kill(process: asyncio.subprocess.Process, grace: float) -> None:
    """SIGTERM the process group; SIGKILL whatever is left of it after ``grace`` seconds."""
    _signal_group(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while _signal_group(process.pid, 0) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    _signal_group(process.pid, signal.SIGKILL)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(process.wait(), timeout=5.0)


def _signal_group(pgid: int, sig: int) -> bool:
    """Send ``sig`` to the process group (0: only check); False when the group is gone."""
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        return False
    return True
