"""Run the worker: poll an environment's task queues with ``IngestionWorkflow`` and its activities.

Called by ``ingest worker --env E``. One client, one Temporal worker per task queue (by default
every queue the environment declares: ``temporal.task_queues``, its default queue and any queue
a ``temporal`` job names). Heartbeats reach the server at least every
:data:`HEARTBEAT_THROTTLE`, which is how a cancellation reaches a running command promptly.
SIGTERM and SIGINT stop polling and let running activities finish within the grace period;
after it they are cancelled, which kills their commands. With ``--listen`` the worker serves
``/healthz``, ``/readyz`` and ``/metrics`` (:mod:`ingestion.worker.observe`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta
from pathlib import Path

from temporalio.worker import Worker

from ingestion.config.loader import Environment
from ingestion.config.modes import Mode
from ingestion.shared import temporal
from ingestion.worker import activities, observe
from ingestion.worker.workflow import IngestionWorkflow

log = logging.getLogger("salam.worker")
SHUTDOWN_GRACE = timedelta(seconds=30)
# a cancellation is only seen in a heartbeat's reply: the SDK's default throttle (80% of the
# heartbeat timeout) made a cancelled command run on for ~24 s
HEARTBEAT_THROTTLE = timedelta(seconds=0.5)


def task_queues(environment: Environment) -> list[str]:
    """Every queue the environment declares: ``task_queues``, the default one, the jobs' own."""
    settings = environment.settings.get("temporal", {})
    declared = {*settings.get("task_queues", []), settings.get("default_task_queue")}
    used = {job.block.get("task_queue") for job in environment.jobs if job.mode is Mode.TEMPORAL}
    return sorted(str(queue) for queue in declared | used if queue)


def settings_of(environment: Environment) -> activities.Settings:
    workdir = Path(str(environment.settings.get("workdir", ".")))
    return activities.Settings(
        environment.name,
        environment.root / workdir,
        environment.settings.get("smtp"),
        events=dict(environment.settings.get("events") or {}),
        root=environment.root,
    )


async def serve(
    environment: Environment,
    queues: Sequence[str],
    stop: asyncio.Event | None = None,
    settings: activities.Settings | None = None,
    observer: observe.Observer | None = None,
) -> None:
    """Poll ``queues`` until ``stop`` is set (or SIGTERM / SIGINT arrives); with ``observer``,
    serve its probes and metrics from before connecting until the workers have stopped."""
    stop = stop or _stop_on_signals()
    async with contextlib.AsyncExitStack() as stack:
        if observer is not None:
            await stack.enter_async_context(_observing(observer))
        metrics = observer.metrics_address if observer else None
        client = await temporal.connect(environment.settings.get("temporal", {}), metrics=metrics)
        work = activities.Activities(settings or settings_of(environment))
        for queue in queues:
            worker = Worker(
                client,
                task_queue=queue,
                workflows=[IngestionWorkflow],
                activities=[work.run_command, work.send_alert],
                graceful_shutdown_timeout=SHUTDOWN_GRACE,
                max_heartbeat_throttle_interval=HEARTBEAT_THROTTLE,
            )
            await stack.enter_async_context(worker)
            if observer is not None:
                observer.workers.append(worker)
        log.info(
            "worker for %s polling %s in namespace %s",
            environment.name,
            ", ".join(queues),
            client.namespace,
        )
        await stop.wait()
        log.info("worker for %s stopping", environment.name)


@contextlib.asynccontextmanager
async def _observing(observer: observe.Observer) -> AsyncIterator[None]:
    observer.server.start()
    beat = asyncio.create_task(observer.beat())
    try:
        yield
    finally:
        beat.cancel()
        observer.server.close()


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop
