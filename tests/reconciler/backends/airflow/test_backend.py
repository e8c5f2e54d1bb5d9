"""The airflow backend through the Backend protocol: create, read back, drift, ownership, prune,
rollback from a live resource's spec, stale changes, atomic writes."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from reconciler import diff, output
from reconciler.backends.base import BackendError
from reconciler.model import Action, Change
from tests.reconciler.backends.airflow.conftest import Harness, plan

NAME = "salam_dev_invoices.py"


def test_create_then_in_sync(harness: Callable[..., Harness]) -> None:
    h = harness()
    changes = h.change_set([plan(), plan("refunds")])
    assert [c.action for c in changes.pending()] == [Action.CREATE, Action.CREATE]
    h.reconcile([plan(), plan("refunds")])
    assert sorted(p.name for p in h.folder.iterdir()) == [NAME, "salam_dev_refunds.py"]
    assert h.change_set([plan(), plan("refunds")]).empty
    live = {r.key.name: r for r in h.backend.read()}
    assert live[NAME].managed and live[NAME].job == "invoices"
    assert live[NAME].meta == {"digest": "0123456789ab", "revision": "e50c42a4b8b3"}
    assert oct(h.file(NAME).stat().st_mode & 0o777) == "0o644"


def test_plan_change_is_an_update_with_readable_fields(harness: Callable[..., Harness]) -> None:
    h = harness()
    h.reconcile([plan()])
    later = plan(schedule={"cron": "0 3 * * *", "timezone": "Europe/Paris"})
    (change,) = h.change_set([later]).pending()
    assert change.action is Action.UPDATE
    paths = {f.path: (f.before, f.after) for f in change.fields}
    assert paths["dag.schedule"] == ("0 2 * * *", "0 3 * * *")
    assert paths["dag.timezone"] == ("UTC", "Europe/Paris")
    h.reconcile([later])
    assert "schedule='0 3 * * *'" in h.file(NAME).read_text()


def test_revision_only_change_is_no_change(harness: Callable[..., Harness]) -> None:
    h = harness()
    h.reconcile([plan()])
    moved = plan()
    moved["bookkeeping"]["git_revision"] = "f" * 40
    assert h.change_set([moved]).empty


def test_hand_edit_shows_as_drift_and_is_reverted(harness: Callable[..., Harness]) -> None:
    h = harness()
    h.reconcile([plan()])
    original = h.file(NAME).read_text()
    edited = original.replace("'retries': 3,", "'retries': 0,")
    assert edited != original
    h.file(NAME).write_text(edited)
    (change,) = h.change_set([plan()]).pending()
    assert change.action is Action.UPDATE
    paths = {f.path: (f.before, f.after) for f in change.fields}
    assert paths["dag.retries"] == (0, 3)
    assert any(p.startswith("source.L") for p in paths)
    assert "dag.retries: 0 -> 3" in output.change_text(change).plain
    assert "source" not in output.change_text(change).plain
    h.reconcile([plan()])
    assert h.file(NAME).read_text() == original


def test_comment_only_edit_is_drift_too(harness: Callable[..., Harness]) -> None:
    h = harness()
    h.reconcile([plan()])
    with h.file(NAME).open("a") as stream:
        stream.write("# tweaked by hand\n")
    (change,) = h.change_set([plan()]).pending()
    fields = {f.path: (f.before, f.after) for f in change.fields}
    last = max(fields)
    assert all(p.startswith("source.L") for p in fields)
    assert fields[last] == ("", None)
    assert output.change_text(change).plain.endswith("\n      ~ file text differs\n")


def test_unmarked_and_other_environment_files_are_never_touched(
    harness: Callable[..., Harness],
) -> None:
    h = harness()
    h.folder.mkdir(parents=True)
    hand = h.file("team_dag.py")
    hand.write_text("# a hand-written DAG\n")
    uat = harness("uat").backend
    uat_resource = uat.render(plan(env="uat"))
    other = h.file("salam_uat_invoices.py")
    other.write_text(uat.compose(uat_resource.job, uat_resource.spec, uat_resource.meta))
    assert h.backend.read() == []
    h.reconcile([plan()])
    h.reconcile([], prune=True)  # prunes ours only
    assert not h.file(NAME).exists()
    assert hand.read_text() == "# a hand-written DAG\n"
    assert other.exists()


def test_unmarked_file_with_the_desired_name_is_a_conflict(
    harness: Callable[..., Harness],
) -> None:
    h = harness()
    h.folder.mkdir(parents=True)
    h.file(NAME).write_text("print('mine')\n")
    changes = h.change_set([plan()])
    assert changes.pending() == ()
    (conflict,) = changes.conflicts
    assert not conflict.managed and conflict.job == "invoices"
    forced = Change(conflict.key, Action.CREATE, None, h.backend.render(plan()))
    (result,) = h.backend.apply([forced])
    assert not result.ok and "not managed by Salam" in result.error
    assert h.file(NAME).read_text() == "print('mine')\n"


def test_other_environments_file_with_the_desired_name_is_a_conflict(
    harness: Callable[..., Harness],
) -> None:
    h = harness()
    uat = harness("uat").backend
    resource = uat.render(plan(env="uat"))
    h.folder.mkdir(parents=True)
    text = uat.compose(resource.job, resource.spec, resource.meta)
    h.file(NAME).write_text(text)
    (conflict,) = h.change_set([plan()]).conflicts
    assert not conflict.managed
    assert h.file(NAME).read_text() == text


def test_rollback_recreates_the_exact_file_from_a_live_spec(
    harness: Callable[..., Harness],
) -> None:
    h = harness()
    h.reconcile([plan()])
    before_bytes = h.file(NAME).read_bytes()
    (before,) = h.backend.read()
    h.reconcile([plan(retries={"count": 9, "delay_seconds": 5})])
    assert h.file(NAME).read_bytes() != before_bytes
    h.file(NAME).unlink()
    restore = diff.compute("dev", [before.as_desired()], h.backend.read())
    results = h.backend.apply(restore.pending())
    assert all(r.ok for r in results)
    assert h.file(NAME).read_bytes() == before_bytes


def test_stale_change_is_refused(harness: Callable[..., Harness]) -> None:
    h = harness()
    h.reconcile([plan()])
    (change,) = h.change_set([plan(retries={"count": 5, "delay_seconds": 60})]).pending()
    h.file(NAME).write_text(h.file(NAME).read_text() + "# edited meanwhile\n")
    edited = h.file(NAME).read_text()
    later = Change(change.key, Action.DELETE, change.before, None)
    results = h.backend.apply([change, later])
    assert not results[0].ok and "changed since it was read" in results[0].error
    assert not results[1].ok and "an earlier change failed" in results[1].error
    assert h.file(NAME).read_text() == edited


def test_create_refused_when_a_file_appeared(harness: Callable[..., Harness]) -> None:
    h = harness()
    (change,) = h.change_set([plan()]).pending()
    h.folder.mkdir(parents=True)
    h.file(NAME).write_text("print('raced')\n")
    (result,) = h.backend.apply([change])
    assert not result.ok
    assert h.file(NAME).read_text() == "print('raced')\n"


def test_write_is_atomic_and_keeps_the_mode(
    harness: Callable[..., Harness], monkeypatch: pytest.MonkeyPatch
) -> None:
    h = harness()
    h.reconcile([plan()])
    os.chmod(h.file(NAME), 0o640)
    original = h.file(NAME).read_text()
    (change,) = h.change_set([plan(owner="someone")]).pending()

    def broken(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken)
    (result,) = h.backend.apply([change])
    assert not result.ok and "No space left on device" in result.error
    assert h.file(NAME).read_text() == original
    assert sorted(p.name for p in h.folder.iterdir()) == [NAME]  # no temporary left over
    monkeypatch.undo()
    assert all(r.ok for r in h.backend.apply([change]))
    assert oct(h.file(NAME).stat().st_mode & 0o777) == "0o640"


def test_folder_that_is_a_file_is_a_backend_error(harness: Callable[..., Harness]) -> None:
    h = harness()
    h.folder.parent.mkdir(parents=True)
    h.folder.write_text("")
    with pytest.raises(BackendError, match="not a directory"), h.backend:
        pass


def test_missing_setting_is_a_backend_error(tmp_path: Path) -> None:
    from ingestion.config.loader import Environment
    from reconciler.backends.airflow import AirflowBackend

    backend = AirflowBackend(Environment("dev", tmp_path, {"environment": "dev"}, ()))
    with pytest.raises(BackendError, match=r"airflow\.dags_folder"), backend:
        pass


def test_two_jobs_wanting_one_file_is_an_error(harness: Callable[..., Harness]) -> None:
    h = harness()
    h.backend.render(plan("a-b"))
    with pytest.raises(BackendError, match=r"both want the file salam_dev_a_b\.py"):
        h.backend.render(plan("a_b"))
