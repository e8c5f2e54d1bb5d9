"""A job moving from cron to Temporal (its mode changed), on two in-memory backends — ``cron``
for ``plain_cron`` and ``temporal`` for ``temporal`` — with a clock the test drives: the change
set shows one move; the apply creates the new schedule paused, lets a fire time that is too close
happen on the old one and waits for its run to end, then removes the old schedule and resumes
the new one, so the job runs exactly once around the switch; a failure at any step leaves the
old schedule as it was and no new one."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from reconciler import engine, move
from reconciler.backends.memory import Store
from reconciler.model import Action, ApplyStatus, ResourceKey
from tests.conftest import run_reconcile
from tests.reconciler.engine.conftest import two_stores

JOB = Path("environments/dev/jobs/subscriptions.yaml")
OLD = ResourceKey("cron", "dev", "salam-dev-subscriptions")
NEW = ResourceKey("temporal", "dev", "salam-dev-subscriptions")
FIRE = 1_800_001_800.0  # 2027-01-15 14:00 in Asia/Kolkata (08:30 UTC): the job fires "0 * * * *"
RUN_SECONDS = 40.0


@dataclass
class Clock:
    """Time the test drives: the old schedule fires at FIRE and its run lasts RUN_SECONDS."""

    store: Store
    now: float = FIRE - 4.0
    writes: list[tuple[float, str]] = field(default_factory=list)

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        running = FIRE <= self.now < FIRE + RUN_SECONDS
        self.store.running = {OLD} if running else set()


@pytest.fixture
def stores(monkeypatch: pytest.MonkeyPatch) -> tuple[Store, Store]:
    return two_stores(monkeypatch, ("cron", "temporal"))


@pytest.fixture
def moving(project: Callable[..., Path], stores: tuple[Store, Store]) -> Path:
    """dev applied with subscriptions on cron; then its config moves it to Temporal."""
    root = project("dev")
    assert _apply(root).status is ApplyStatus.APPLIED
    text = (root / JOB).read_text()
    before = text[text.index("    mode: plain_cron") :]
    after = (
        "    mode: temporal\n    temporal:\n      schedule:\n"
        '        cron: "0 * * * *"\n        timezone: Asia/Kolkata\n'
    )
    (root / JOB).write_text(text.replace(before, after))
    return root


def _apply(root: Path, clock: Clock | None = None) -> engine.ApplyOutcome:
    moving = move.MoveOptions()
    if clock is not None:
        moving = move.MoveOptions(clock=clock.time, sleep=clock.sleep, poll=5.0)
    options = engine.ReconcileOptions(root=root, env="dev", jobs=("subscriptions",), moving=moving)
    with engine.prepare(options, for_apply=True) as current:
        return engine.apply(current)


def test_the_change_set_shows_one_move(moving: Path) -> None:
    result = run_reconcile(
        "--env", "dev", "--root", str(moving), "--dry-run", "--job", "subscriptions"
    )
    assert result.exit_code == 0, result.output
    assert f"-> {NEW}  (move, job subscriptions)" in result.output
    assert f"-> from {OLD}: the new one created paused" in result.output
    assert "0 to create, 0 to adopt, 0 to update, 0 to delete, 1 to move." in result.output
    document = json.loads(
        run_reconcile(
            "--env", "dev", "--root", str(moving), "--dry-run", "--job", "subscriptions",
            "--output", "json",
        ).stdout
    )  # fmt: skip
    assert [(c["action"], c["symbol"]) for c in document["change_set"]["changes"]] == [
        ("move", "->")
    ]


def test_without_prune_a_job_changing_scheduler_still_moves(moving: Path) -> None:
    """--no-prune keeps what no job wants any more; a job that changes scheduler is still
    wanted, so it moves (the old schedule left beside the new one would run it twice)."""
    result = run_reconcile(
        "--env", "dev", "--root", str(moving), "--dry-run", "--job", "subscriptions",
        "--no-prune",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "0 to create, 0 to adopt, 0 to update, 0 to delete, 1 to move." in result.output


def test_a_fire_time_during_the_move_runs_once_on_the_old_schedule(
    moving: Path, stores: tuple[Store, Store]
) -> None:
    cron, temporal = stores
    clock = Clock(cron)
    outcome = _apply(moving, clock)
    assert outcome.status is ApplyStatus.APPLIED, outcome.results
    assert [r.change.action for r in outcome.results] == [Action.MOVE]
    assert temporal.log == [f"create {NEW}", f"update {NEW}"]  # created paused, then resumed
    assert cron.log[-1] == f"delete {OLD}"
    # the old schedule fired at FIRE and its run ended before it was removed: the new one's
    # first fire is the next hour, so the job ran exactly once around the switch
    assert clock.now >= FIRE + RUN_SECONDS
    assert clock.now < FIRE + 3600 - move.MoveOptions().margin
    assert OLD not in cron.resources and "paused" not in temporal.resources[NEW].spec
    again = engine.ReconcileOptions(root=moving, env="dev", jobs=("subscriptions",))
    with engine.prepare(again) as current:
        assert current.change_set.in_sync


@pytest.mark.parametrize(
    ("where", "verb"), [("temporal", "create"), ("cron", "delete"), ("temporal", "update")]
)
def test_a_failure_at_any_step_leaves_the_old_schedule(
    moving: Path, stores: tuple[Store, Store], where: str, verb: str
) -> None:
    cron, temporal = stores
    old = cron.resources[OLD]
    (cron if where == "cron" else temporal).fail.add((verb, NEW.name))  # same name in both
    outcome = _apply(moving, Clock(cron, now=FIRE + 600))
    assert outcome.status is ApplyStatus.ROLLED_BACK
    [result] = outcome.results
    step = {"create": "create the new", "delete": "remove the old", "update": "resume the new"}
    assert f"{step[verb]} schedule: injected failure on {verb}" in result.error
    assert "the old schedule is restored, the new one removed" in result.error
    assert cron.resources[OLD].spec == old.spec
    assert NEW not in temporal.resources


def test_no_moment_within_the_wait_fails_and_restores(
    moving: Path, stores: tuple[Store, Store]
) -> None:
    cron, temporal = stores
    cron.running = {OLD}  # a run that never ends

    def never_ends(seconds: float) -> None:
        clock.now += seconds

    clock = Clock(cron, now=FIRE + 600)
    options = move.MoveOptions(clock=clock.time, sleep=never_ends, wait=60.0, poll=5.0)
    run = engine.ReconcileOptions(root=moving, env="dev", jobs=("subscriptions",), moving=options)
    with engine.prepare(run, for_apply=True) as current:
        outcome = engine.apply(current)
    assert outcome.status is ApplyStatus.ROLLED_BACK
    assert "no moment away from a fire time without a run in flight within 60s" in (
        outcome.results[0].error
    )
    assert OLD in cron.resources and NEW not in temporal.resources
