"""The Temporal cron dialect against the real server: what it runs, it runs as cron means it.

Every expression is created as a schedule on the dev server and its fire times for a year come
back from ``ListScheduleMatchingTimes`` (at most 1,000: the expressions here fire less often).
What :class:`ingestion.cron.dialect.Dialect` accepts for Temporal, the server accepts and fires
exactly when ``cronsim`` (Debian cron's meaning) does, and reads back as the same canonical
text (no drift); what the dialect refuses, the server refuses or fires at other times. The
clock-change warning names exactly the days a schedule in a daylight-saving zone fires
differently from its wall-clock expression.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import cronsim
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from temporalio.api.workflowservice.v1 import ListScheduleMatchingTimesRequest
from temporalio.client import Client, Schedule, ScheduleActionStartWorkflow, ScheduleSpec
from temporalio.service import RPCError

from ingestion.cron import dialect, transitions
from reconciler.backends.temporal import cron
from tests.reconciler.backends.temporal.conftest import Project
from tests.reconciler.backends.temporal.server import write_job

START = datetime(2027, 1, 1, tzinfo=UTC)
END = datetime(2028, 1, 1, tzinfo=UTC)
ACCEPTED = [
    "0 6 * * WED",
    "0 6 * JUL *",
    "15 4 * jul wed",
    "0 0 * * MON-FRI",
    "0 12 1 JAN-MAR/2 *",
    "5/10 3 1 * *",
    "0 0 * * 7",
    "0 0 * * 0-7",
    "0 0 * * MON/2",
    "0 0 * * 3/4",
    "0 0 * * */2",
    "0 0 */2 * 1",
    "0 0 1-31/7 * *",
]
REFUSED = ["15 23 L * *", "0 6 * * 5L", "0 6 * * FRI#2", "0 6 LW * *", "0 0 1 * 1"]
_IDS = itertools.count()


def cron_times(expression: str) -> list[datetime]:
    """cron's fire times in ``(START, END]``, the window ``ListScheduleMatchingTimes`` uses."""
    moments = cronsim.CronSim(expression, START - timedelta(minutes=1))
    return [m for m in itertools.takewhile(lambda m: m <= END, moments) if m > START]


async def matching_times(
    client: Client, expression: str, zone: str = "UTC", start: datetime = START, end: datetime = END
) -> list[datetime] | str:
    """The server's fire times of a schedule with ``expression``, or its refusal."""
    schedule_id = f"dialect-{next(_IDS)}"
    spec = ScheduleSpec(cron_expressions=[expression], time_zone_name=zone)
    action = ScheduleActionStartWorkflow("W", id="w", task_queue="q")
    try:
        handle = await client.create_schedule(schedule_id, Schedule(action=action, spec=spec))
    except RPCError as error:
        return error.message
    first, last = Timestamp(), Timestamp()
    first.FromDatetime(start)
    last.FromDatetime(end)
    request = ListScheduleMatchingTimesRequest(
        namespace=client.namespace, schedule_id=schedule_id, start_time=first, end_time=last
    )
    reply = await client.workflow_service.list_schedule_matching_times(request)
    if not dialect.backend_problems(expression, "temporal"):  # reads back without drift
        live = cron.from_calendars((await handle.describe()).schedule.spec.calendars)
        assert live == cron.normalise(expression), expression
    return [t.ToDatetime().replace(tzinfo=UTC) for t in reply.start_time]


def server_times(project: Project, expressions: Sequence[str]) -> dict[str, list[datetime] | str]:
    async def run() -> dict[str, list[datetime] | str]:
        client = await Client.connect(project.server.address, namespace=project.namespace)
        return {e: await matching_times(client, e) for e in expressions}

    return asyncio.run(run())


def test_names_are_not_mistaken_for_l_or_w() -> None:
    assert cron.normalise("15 4 * jul wed") == "15 4 * 7 3"
    assert cron.normalise("0 6 * JUL-AUG SAT,SUN") == "0 6 * 7-8 0,6"


def test_a_weekday_step_runs_to_sunday_as_on_the_server() -> None:
    assert cron.normalise("0 0 * * MON/2") == "0 0 * * 0-1,3,5"


@pytest.mark.integration
def test_what_the_dialect_accepts_the_server_runs_as_cron_means_it(project: Project) -> None:
    assert all(not dialect.backend_problems(e, "temporal") for e in ACCEPTED)
    found = server_times(project, ACCEPTED)
    assert {e: found[e] for e in ACCEPTED} == {e: cron_times(e) for e in ACCEPTED}


@pytest.mark.integration
def test_what_the_dialect_refuses_the_server_refuses_or_misreads(project: Project) -> None:
    assert all(dialect.backend_problems(e, "temporal") for e in REFUSED)
    found = server_times(project, REFUSED)
    refused = {e for e, times in found.items() if isinstance(times, str)}
    assert refused == {"15 23 L * *", "0 6 * * 5L", "0 6 LW * *"}
    for expression in set(REFUSED) - refused:
        assert found[expression] != cron_times(expression), expression


@pytest.mark.integration
def test_the_cli_takes_names_and_refuses_l(project: Project) -> None:
    def create(schedule_id: str, expression: str) -> tuple[int, str]:
        done = project.server.cli(
            "schedule", "create", "-n", project.namespace, "--schedule-id", schedule_id,
            "--cron", expression, "--type", "W", "--task-queue", "q", "--workflow-id", "w",
            check=False,
        )  # fmt: skip
        return done.returncode, done.stdout + done.stderr

    assert create("cli-names", "15 4 * JUL WED")[0] == 0
    code, output = create("cli-last-day", "15 23 L * *")
    assert code != 0 and "DayOfMonth" in output


@pytest.mark.integration
def test_a_job_on_wed_in_jul_is_applied_and_stays_in_sync(project: Project) -> None:
    write_job(project.root, "dev", "named", cron="15 4 * JUL WED")
    _, results = project.reconcile()
    assert [r.ok for r in results] == [True], results
    again, _ = project.reconcile(apply=False)
    assert not again.pending()


def local_anomalies(
    expression: str, zone: str, times: Sequence[datetime], days: Sequence[date]
) -> dict[date, str]:
    """The ``days`` whose local fire times differ from the wall-clock expression's."""
    info = ZoneInfo(zone)
    local: dict[date, list[datetime]] = {}
    for moment in times:
        wall = moment.astimezone(info).replace(tzinfo=None)
        local.setdefault(wall.date(), []).append(wall)
    found: dict[date, str] = {}
    for day in days:
        seen = [t.time() for t in local.get(day, [])]
        if len(seen) > len(set(seen)):
            found[day] = "twice"
        elif seen != wall_clock(expression, day):
            found[day] = "skipped"
    return found


def wall_clock(expression: str, day: date) -> list[time]:
    """The times of day ``expression`` names on ``day``, on a clock that never changes."""
    midnight = datetime(day.year, day.month, day.day, tzinfo=UTC)
    moments = itertools.takewhile(
        lambda m: m.date() == day, cronsim.CronSim(expression, midnight - timedelta(minutes=1))
    )
    return [m.time() for m in moments if m >= midnight]


@pytest.mark.integration
@pytest.mark.parametrize(
    ("expression", "zone"),
    [
        ("30 2 * * *", "America/New_York"),
        ("30 1 * * *", "America/New_York"),
        ("*/20 1-2 * * SUN", "America/New_York"),
        ("0 6 * * *", "Europe/Berlin"),
        ("0 2 * * *", "Australia/Lord_Howe"),
    ],
)
def test_the_clock_change_warning_names_the_days_temporal_runs_differently(
    project: Project, expression: str, zone: str
) -> None:
    today = datetime.now(UTC).date()
    start = datetime(today.year, today.month, today.day, tzinfo=UTC) - timedelta(days=1)
    end = start + timedelta(days=370)

    async def run() -> list[datetime] | str:
        client = await Client.connect(project.server.address, namespace=project.namespace)
        return await matching_times(client, expression, zone, start, end)

    times = asyncio.run(run())
    assert not isinstance(times, str), times
    days = [today + timedelta(days=n) for n in range(1, 365)]
    observed = local_anomalies(expression, zone, times, days)
    warned = {
        t.day: "skipped" if t.change is transitions.Change.SKIPPED else "twice"
        for t in transitions.affected(expression, zone, today)
        if t.day in days
    }
    assert warned == observed
    problem = dialect.clock_change_problem(expression, zone, "temporal", today)
    assert (problem is None) == (not observed)
    for day in observed:
        assert problem is not None and day.isoformat() in problem[0]
