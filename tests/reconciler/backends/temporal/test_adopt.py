"""Adopting a schedule created outside Salam, on a real Temporal dev server, through the CLI:
without ``adopt`` it stays a blocking conflict; with ``adopt: true`` in the job config (or
``--adopt``) one apply takes it over in place — same schedule id, same create time, Salam's search
attributes added (``SalamOwner``: the server refuses memo updates), the fields the job sets
written, the operator's pause kept — and the next run is in sync; an apply that adopts and then
fails gives the schedule back as it was, without Salam's search attributes."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from reconciler.backends.temporal import TemporalBackend
from reconciler.model import DesiredResource
from tests.reconciler.backends.temporal.conftest import Project
from tests.reconciler.backends.temporal.server import write_job
from tests.reconciler.backends.temporal.test_collision_cli import cli

pytestmark = pytest.mark.integration
THEIRS = "salam-dev-orders"


def described(project: Project) -> dict[str, Any]:
    shown = project.server.cli(
        "schedule", "describe", "--schedule-id", THEIRS, "-n", project.namespace, "-o", "json"
    )
    document: dict[str, Any] = json.loads(shown.stdout)
    return document


@pytest.fixture
def hand_made(project: Project) -> Project:
    """``orders``' schedule created by hand (a script's), paused by its operator."""
    project.server.cli(
        "schedule", "create", "-n", project.namespace, "--schedule-id", THEIRS,
        "--cron", "15 * * * *", "--workflow-id", THEIRS, "--task-queue", "theirs",
        "--type", "IngestionWorkflow", "--paused",
    )  # fmt: skip
    return project


def test_without_adopt_it_stays_a_conflict(hand_made: Project) -> None:
    write_job(hand_made.root, "dev", "orders")
    applied = cli(hand_made)
    assert applied.exit_code == 1, applied.output
    assert "not managed by Salam" in applied.output
    assert "Salam" not in json.dumps(described(hand_made).get("searchAttributes") or {})


@pytest.mark.parametrize("how", ["config", "flag"])
def test_adopt_takes_it_over_in_place_then_in_sync(hand_made: Project, how: str) -> None:
    extra = {"adopt": True} if how == "config" else {}
    path = write_job(hand_made.root, "dev", "orders")
    if extra:
        job = json.loads(path.read_text())
        job["runtime"]["orchestration"]["adopt"] = True
        path.write_text(json.dumps(job))
    flag = ("--adopt",) if how == "flag" else ()
    before = described(hand_made)
    dry = cli(hand_made, "--dry-run", *flag)
    assert dry.exit_code == 0, dry.output
    assert f"<= temporal/{hand_made.namespace}/{THEIRS}  (adopt, job orders)" in dry.output
    assert "taken over in place" in dry.output
    assert "0 to create, 1 to adopt, 0 to update, 0 to delete." in dry.output
    as_json = json.loads(cli(hand_made, "--dry-run", "--output", "json", *flag).stdout)
    assert [(c["action"], c["symbol"]) for c in as_json["change_set"]["changes"]] == [
        ("adopt", "<=")
    ]
    assert as_json["change_set"]["conflicts"] == []

    applied = cli(hand_made, *flag)
    assert applied.exit_code == 0, applied.output
    assert f"<= temporal/{hand_made.namespace}/{THEIRS}: adopted" in applied.output
    after = described(hand_made)
    assert after["info"]["createTime"] == before["info"]["createTime"]  # not recreated
    marked = json.dumps(after["searchAttributes"])  # the server refuses memo updates
    assert "SalamOwner" in marked and "SalamDigest" in marked
    assert after["schedule"]["state"].get("paused") is True  # the operator's pause is kept
    task_queue = after["schedule"]["action"]["startWorkflow"]["taskQueue"]["name"]
    assert task_queue != "theirs"  # a field the job sets, written by the adopt
    again = cli(hand_made, "--dry-run", "--exit-code")
    assert again.exit_code == 0, again.output
    assert "in sync" in again.output


def test_an_adopt_rolled_back_gives_the_schedule_back_without_salams_marker(
    hand_made: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_job(hand_made.root, "dev", "orders")
    write_job(hand_made.root, "dev", "refunds")  # its create fails, beside the adopt
    plain_create = TemporalBackend._create

    async def failing_create(self: TemporalBackend, resource: DesiredResource) -> None:
        if resource.job == "refunds":
            raise RuntimeError("injected: the create of refunds fails")
        await plain_create(self, resource)

    monkeypatch.setattr(TemporalBackend, "_create", failing_create)
    before = described(hand_made)

    failed = cli(hand_made, "--adopt")

    key = f"temporal/{hand_made.namespace}/{THEIRS}"
    assert failed.exit_code == 1, failed.output
    assert f"<= {key}: adopted" in failed.output
    assert f"=> {key}: given back as it was before the adopt, not Salam's" in failed.output
    after = _eventually(  # search attributes land after the update returns
        lambda: described(hand_made),
        lambda shown: "Salam" not in json.dumps(shown.get("searchAttributes") or {}),
    )
    assert after["info"]["createTime"] == before["info"]["createTime"]
    spec, was = after["schedule"]["spec"], before["schedule"]["spec"]
    assert spec["structuredCalendar"] == was["structuredCalendar"]  # 15 * * * * again
    assert spec.get("timezoneName", "UTC") == "UTC" and spec.get("jitter", "0s") == "0s"
    started, was_started = after["schedule"]["action"], before["schedule"]["action"]
    for field in ("workflowId", "workflowType", "taskQueue"):  # task queue "theirs" again
        assert started["startWorkflow"][field] == was_started["startWorkflow"][field]
    assert after["schedule"]["state"].get("paused") is True
    again = cli(hand_made, "--dry-run", "--exit-code")
    assert again.exit_code == 4 and f"! {key}  (conflict, job orders)" in again.output


def _eventually(read: Callable[[], Any], holds: Callable[[Any], bool]) -> Any:
    """``read()`` once ``holds`` it (the server applies search attributes a little later)."""
    deadline = time.monotonic() + 30
    while True:
        found = read()
        if holds(found) or time.monotonic() > deadline:
            assert holds(found), f"not within 30 s: {found}"
            return found
        time.sleep(0.5)
