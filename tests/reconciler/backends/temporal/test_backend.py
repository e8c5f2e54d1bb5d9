"""The Temporal backend against a real dev server: round trips, drift, ownership, failures."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)
from temporalio.service import RPCError, RPCStatusCode

from ingestion.plan import environment as plans
from reconciler.backends.base import BackendError
from reconciler.backends.temporal import TemporalBackend, spec
from reconciler.model import Action, Change
from tests.reconciler.backends.temporal.conftest import Project
from tests.reconciler.backends.temporal.server import edit_job, free_port, write_job

pytestmark = pytest.mark.integration


def actions(change_set: Any) -> dict[str, str]:
    return {c.key.name: c.action.verb for c in change_set.pending()}


def hand_edit(project: Project, schedule_id: str, edit: Any) -> None:
    """Change a schedule the way an operator's script would (not through Salam)."""

    async def run() -> None:
        client = await Client.connect(project.server.address, namespace=project.namespace)

        def updater(update: ScheduleUpdateInput) -> ScheduleUpdate:
            schedule = update.description.schedule
            edit(schedule)
            return ScheduleUpdate(schedule=schedule)

        await client.get_schedule_handle(schedule_id).update(updater)

    asyncio.run(run())


def test_create_noop_update_delete_round_trip(project: Project) -> None:
    write_job(project.root, "dev", "orders")
    customers = write_job(project.root, "dev", "customers", cron="*/15 1-5 * * MON-FRI")

    change_set, results = project.reconcile()
    assert actions(change_set) == {"salam-dev-orders": "create", "salam-dev-customers": "create"}
    assert all(r.ok for r in results)

    change_set, results = project.reconcile()
    assert change_set.empty and results == []

    edit_job(customers, cron="0 6 * * *", jitter="30s")
    change_set, results = project.reconcile()
    (change,) = change_set.pending()
    assert change.action is Action.UPDATE
    assert {f.path for f in change.fields} >= {"calendar.cron", "calendar.jitter_seconds"}
    assert all(r.ok for r in results)
    assert project.reconcile(apply=False)[0].empty

    customers.unlink()
    change_set, results = project.reconcile()
    assert actions(change_set) == {"salam-dev-customers": "delete"}
    assert all(r.ok for r in results)
    with project.backend() as backend:
        assert [r.key.name for r in backend.read()] == ["salam-dev-orders"]


def test_read_right_after_a_burst_shows_no_changes(project: Project) -> None:
    paths = [write_job(project.root, "dev", f"job{i:02d}", cron=f"{i} * * * *") for i in range(30)]
    change_set, results = project.reconcile()
    assert len(results) == 30 and all(r.ok for r in results)
    assert project.reconcile(apply=False)[0].empty

    for path in paths:
        edit_job(path, cron="5 4 * * *")
    change_set, results = project.reconcile()
    assert change_set.count(Action.UPDATE) == 30 and all(r.ok for r in results)
    assert project.reconcile(apply=False)[0].empty


def test_live_meta_carries_digest_and_revision(project: Project) -> None:
    write_job(project.root, "dev", "orders")
    change_set, _ = project.reconcile()
    (created,) = change_set.pending()
    with project.backend() as backend:
        (live,) = backend.read()
    assert live.managed and not live.paused
    assert live.meta["digest"] == created.after.meta["digest"] != ""  # type: ignore[union-attr]


def test_hand_changes_show_as_field_drift_and_are_corrected(project: Project) -> None:
    write_job(project.root, "dev", "orders", paused=False)
    project.reconcile()

    def edit(schedule: Schedule) -> None:
        schedule.spec = ScheduleSpec(cron_expressions=["0 3 * * *"], time_zone_name="UTC")
        assert isinstance(schedule.action, ScheduleActionStartWorkflow)
        schedule.action.task_queue = "somewhere-else"
        schedule.state.paused = True

    hand_edit(project, "salam-dev-orders", edit)
    change_set, results = project.reconcile()
    (change,) = change_set.pending()
    fields = {f.path: (f.before, f.after) for f in change.fields}
    assert fields["calendar.cron"] == ("0 3 * * *", "15 * * * *")
    assert fields["action.task_queue"] == ("somewhere-else", "salam-dev")
    assert fields["state.paused"] == (True, False)
    assert all(r.ok for r in results)
    assert project.reconcile(apply=False)[0].empty


def test_operator_pause_is_reported_and_kept(project: Project) -> None:
    job = write_job(project.root, "dev", "orders")
    project.reconcile()
    project.server.cli(
        "schedule",
        "toggle",
        "--pause",
        "--reason",
        "maintenance",
        "-n",
        project.namespace,
        "--schedule-id",
        "salam-dev-orders",
    )

    with project.backend() as backend:
        (live,) = backend.read()
    assert live.paused and live.spec["state"]["paused"] is True
    assert project.reconcile(apply=False)[0].empty

    edit_job(job, cron="0 1 * * *")
    change_set, _ = project.reconcile()
    assert {f.path for f in change_set.pending()[0].fields} == {
        "calendar.cron",
        "action.args[0].schedule.cron",
        "action.args[0].bookkeeping.digest",
        "action.args[0].bookkeeping.config_sha256",
    }
    with project.backend() as backend:
        (live,) = backend.read()
    assert live.paused, "an operator's pause survives a reconcile"

    edit_job(job, paused=False)
    change_set, _ = project.reconcile()
    paths = {f.path for f in change_set.pending()[0].fields}
    assert {p for p in paths if not p.startswith("action.args[0].")} == {"state.paused"}
    assert "action.args[0].schedule.paused" in paths
    with project.backend() as backend:
        (live,) = backend.read()
    assert not live.paused and live.spec["state"]["paused"] is False


def test_pause_set_in_config_carries_a_note(project: Project) -> None:
    write_job(project.root, "dev", "orders", cron="0 1 * * *", paused=True)
    project.reconcile()
    described = project.server.cli(
        "schedule",
        "describe",
        "-n",
        project.namespace,
        "--schedule-id",
        "salam-dev-orders",
        "-o",
        "json",
    ).stdout
    assert spec.PAUSED_NOTE in described
    with project.backend() as backend:
        (live,) = backend.read()
    assert live.spec["state"]["paused"] is True and not live.paused


def test_unmarked_schedules_are_never_touched(project: Project) -> None:
    write_job(project.root, "dev", "orders")
    for schedule_id in ("someone-elses", "salam-dev-orders"):
        project.server.cli(
            "schedule",
            "create",
            "-n",
            project.namespace,
            "--schedule-id",
            schedule_id,
            "--cron",
            "0 9 * * *",
            "--workflow-id",
            "x",
            "--task-queue",
            "theirs",
            "--type",
            "TheirWorkflow",
        )
    change_set, results = project.reconcile()
    assert change_set.empty and results == []
    assert [c.key.name for c in change_set.conflicts] == ["salam-dev-orders"]
    assert not change_set.conflicts[0].managed

    with project.backend() as backend:
        desired = backend.render(_plan(project, "orders"))
        conflict = change_set.conflicts[0]
        forced = [
            Change(desired.key, Action.UPDATE, conflict, desired),
            Change(desired.key, Action.DELETE, conflict, None),
        ]
        assert [r.ok for r in backend.apply(forced)] == [False, False]
    listed = project.server.cli(
        "schedule",
        "describe",
        "-n",
        project.namespace,
        "--schedule-id",
        "salam-dev-orders",
        "-o",
        "json",
    ).stdout
    assert "TheirWorkflow" in listed and "theirs" in listed


def test_uat_is_untouched_while_reconciling_prod(project: Project) -> None:
    project.add_environment("uat")
    project.add_environment("prod")
    write_job(project.root, "uat", "orders")
    write_job(project.root, "prod", "invoices")
    assert all(r.ok for r in project.reconcile("uat")[1])

    change_set, _ = project.reconcile("prod")
    assert actions(change_set) == {"salam-prod-invoices": "create"}
    (project.root / "environments/prod/jobs/invoices.json").unlink()
    change_set, _ = project.reconcile("prod")
    assert actions(change_set) == {"salam-prod-invoices": "delete"}
    with project.backend("uat") as backend:
        assert [r.key.name for r in backend.read()] == ["salam-uat-orders"]


def test_unreachable_server_names_the_address(project: Project) -> None:
    write_job(project.root, "dev", "orders")
    address = f"127.0.0.1:{free_port()}"
    environment = project.load()
    settings = {
        **environment.settings,
        "temporal": {**environment.settings["temporal"], "address": address},
    }
    broken = type(environment)(environment.name, environment.root, settings, environment.jobs)
    with pytest.raises(BackendError, match=address.replace(".", r"\.")):
        TemporalBackend(broken).__enter__()


def test_a_failed_describe_fails_the_whole_read_naming_the_namespace(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(6):
        write_job(project.root, "dev", f"job{i}")
    assert all(r.ok for r in project.reconcile()[1])
    real = TemporalBackend._describe

    async def failing(self: TemporalBackend, client: Client, schedule: str) -> Any:
        if schedule == "salam-dev-job3":
            raise RPCError("describe refused", RPCStatusCode.UNAVAILABLE, b"")
        return await real(self, client, schedule)

    monkeypatch.setattr(TemporalBackend, "_describe", failing)
    expected = f"namespace '{project.namespace}'.*describe refused"
    with project.backend(concurrency=2) as backend, pytest.raises(BackendError, match=expected):
        backend.read()


def test_server_stopped_mid_apply_fails_cleanly_and_the_next_run_converges(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(8):
        write_job(project.root, "dev", f"job{i}")
    real, calls = spec.to_schedule, []

    def stop_after_three(resource_spec: Any, keep: Any = None) -> Schedule:
        calls.append(1)
        if len(calls) == 4:
            project.server.stop()
        return real(resource_spec, keep)

    monkeypatch.setattr(spec, "to_schedule", stop_after_three)
    try:
        change_set, results = project.reconcile(concurrency=1, rpc_timeout=timedelta(seconds=3))
    finally:
        monkeypatch.setattr(spec, "to_schedule", real)
        project.server.start()
    assert [r.ok for r in results] == [True] * 3 + [False] * 5
    assert all("unavailable" in r.error for r in results[3:])

    change_set, results = project.reconcile()
    assert change_set.count(Action.CREATE) == 5 and all(r.ok for r in results)
    assert project.reconcile(apply=False)[0].empty


def _plan(project: Project, job: str) -> dict[str, Any]:
    from ingestion.plan import environment as plans

    return plans.render_all(project.load(), with_git=False)[job]


def test_a_move_stopped_before_its_switch_is_reported_not_left_silently_paused(
    project: Project,
) -> None:
    """A move (reconciler.move) creates the new schedule paused and resumes it at the switch; a
    process killed in between leaves it paused with the move's note. That pause is not the
    config's: it shows as paused drift with the note saying what to do, never as in sync; the
    pause made by a move that finished says it was resumed at the switch."""
    write_job(project.root, "dev", "orders")
    environment = project.load()
    with project.backend() as backend:
        (plan,) = plans.render_all(environment, with_git=False).values()
        paused, resumed = backend.paused(backend.render(plan))
        [created] = backend.apply([Change(paused.key, Action.CREATE, None, paused)])
        assert created.ok, created.error
        (live,) = backend.read()
    assert live.managed and live.paused  # reported, as an operator's pause would be
    assert live.observed["pause_note"] == spec.MOVE_NOTE
    assert "the move did not finish" in spec.MOVE_NOTE

    with project.backend() as backend:
        [done] = backend.apply([Change(resumed.key, Action.UPDATE, live, resumed)])
        assert done.ok, done.error
        (live,) = backend.read()
    assert not live.paused and live.spec["state"]["paused"] is False
    assert live.observed["pause_note"] == spec.RESUMED_NOTE
    assert project.reconcile(apply=False)[0].empty
