"""Cron strings and the server's calendar specs normalise to the same canonical text."""

from __future__ import annotations

import asyncio

import pytest
from temporalio.client import Client, Schedule, ScheduleActionStartWorkflow, ScheduleSpec

from reconciler.backends.temporal import cron
from tests.reconciler.backends.temporal.conftest import Project

EXPRESSIONS = [
    "0 0 * * *",
    "*/15 1-5 * JAN MON-FRI",
    "5/10 * * * *",
    "0 0 * * 7",
    "0 0 * * 0,7",
    "0 0 1 1,6,3 *",
    "1-5,3 2 * * *",
    "0 0 * 2-4/2 *",
    "@daily",
    "30 6 1-7 * *",
    "0 12 * * sun",
]


@pytest.mark.parametrize(
    ("expression", "canonical"),
    [
        ("0 0 * * *", "0 0 * * *"),
        ("*/15 * * * *", "*/15 * * * *"),
        ("0-59/15 * * * *", "*/15 * * * *"),
        ("5/10 * * * *", "5-55/10 * * * *"),
        ("0 0 * * 7", "0 0 * * 0"),
        ("0 0 * * MON-FRI", "0 0 * * 1-5"),
        ("0 0 1 JAN,MAR *", "0 0 1 1,3 *"),
        ("1-5,3 2 * * *", "1-5 2 * * *"),
        ("@hourly", "0 * * * *"),
    ],
)
def test_normalise(expression: str, canonical: str) -> None:
    assert cron.normalise(expression) == canonical


@pytest.mark.parametrize(
    "expression", ["0 0 L * *", "0 0 * * 5L", "0 0 * * MON#2", "0 0 ? * SUN", "0 0 * *"]
)
def test_expressions_temporal_would_misread_are_refused(expression: str) -> None:
    with pytest.raises(cron.CronError):
        cron.normalise(expression)


@pytest.mark.integration
def test_server_calendars_read_back_as_the_same_canonical_text(project: Project) -> None:
    async def run() -> dict[str, str | None]:
        client = await Client.connect(project.server.address, namespace=project.namespace)
        found = {}
        for i, expression in enumerate(EXPRESSIONS):
            schedule = Schedule(
                action=ScheduleActionStartWorkflow("W", id="w", task_queue="q"),
                spec=ScheduleSpec(cron_expressions=[expression]),
            )
            handle = await client.create_schedule(f"cron-{i}", schedule)
            found[expression] = cron.from_calendars(
                (await handle.describe()).schedule.spec.calendars
            )
        return found

    found = asyncio.run(run())
    assert found == {e: cron.normalise(e) for e in EXPRESSIONS}
