"""The reconcile loop on the in-memory backend: idempotency, ordering, prune guard, rollback
from the journal, audit, lock, and the killed-apply case."""

from __future__ import annotations

import json
import multiprocessing
import time
from pathlib import Path

import pytest

from reconciler import engine, lock
from reconciler.backends.memory import Store
from reconciler.model import Action, ResultStatus


def _options(root: Path, **kwargs: object) -> engine.ReconcileOptions:
    return engine.ReconcileOptions(root=root, env="dev", lock_timeout=5, **kwargs)  # type: ignore[arg-type]


def _apply(root: Path, **kwargs: object) -> engine.ApplyOutcome:
    with engine.prepare(_options(root, **kwargs), for_apply=True) as current:
        return engine.apply(current)


def _change_set(root: Path, **kwargs: object) -> engine.ChangeSet:
    with engine.prepare(_options(root, **kwargs)) as current:
        return current.change_set


def _edit(root: Path, job: str, old: str, new: str) -> None:
    path = root / "environments" / "dev" / "jobs" / f"{job}.yaml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def test_dry_run_changes_nothing_then_apply_then_second_run_is_empty(
    store: Store, dev: Path
) -> None:
    change_set = _change_set(dev)
    assert change_set.count(Action.CREATE) == 7 and store.writes == 0

    outcome = _apply(dev)

    assert outcome.status == "applied" and len(store.resources) == 7
    assert _change_set(dev).empty


def test_config_change_is_an_update_with_field_detail(store: Store, dev: Path) -> None:
    _apply(dev)
    _edit(dev, "payments", '"30 3 * * *"', '"45 3 * * *"')
    [change] = _change_set(dev).pending()
    assert change.action is Action.UPDATE and change.job == "payments"
    assert [(f.path, f.before, f.after) for f in change.fields] == [
        ("schedule.cron", "30 3 * * *", "45 3 * * *")
    ]


def test_removed_job_is_deleted_only_with_prune(store: Store, dev: Path) -> None:
    _apply(dev)
    (dev / "environments/dev/jobs/payments.yaml").unlink()
    assert _change_set(dev, prune=False).empty
    [change] = _change_set(dev).pending()
    assert change.action is Action.DELETE and change.key.name == "salam-dev-payments"


def test_deletes_come_after_creates_and_updates(store: Store, dev: Path) -> None:
    _apply(dev)
    (dev / "environments/dev/jobs/payments.yaml").unlink()
    _edit(dev, "invoices", '"0 2 * * *"', '"0 3 * * *"')
    _edit(dev, "tariff_catalog", "name: tariff_catalog", "name: tariff_catalog_v2")
    actions = [c.action for c in _change_set(dev).pending()]
    assert actions == [Action.CREATE, Action.UPDATE, Action.DELETE, Action.DELETE]


def test_prune_of_everything_is_refused_without_allow_empty(store: Store, dev: Path) -> None:
    _apply(dev)
    for path in (dev / "environments/dev/jobs").glob("*.yaml"):
        path.unlink()
    with pytest.raises(engine.EngineError, match="refusing to delete all 7 managed"):
        _apply(dev)
    assert len(store.resources) == 7
    assert _apply(dev, allow_empty=True).status == "applied"
    assert not store.resources


def test_failed_apply_restores_what_was_changed(store: Store, dev: Path) -> None:
    _apply(dev)
    before = dict(store.resources)
    _edit(dev, "invoices", '"0 2 * * *"', '"0 3 * * *"')
    _edit(dev, "payments", '"30 3 * * *"', '"45 3 * * *"')
    (dev / "environments/dev/jobs/tariff_catalog.yaml").unlink()
    store.fail.add(("update", "salam-dev-payments"))

    outcome = _apply(dev)

    assert outcome.status == "rolled-back"
    assert [r.status for r in outcome.results] == [
        ResultStatus.APPLIED,
        ResultStatus.FAILED,
        ResultStatus.SKIPPED,
    ]
    assert outcome.results[2].error == "an earlier change failed"
    assert store.resources == before
    assert {str(r.change.key) for r in outcome.restored} == {"memory/dev/ingest_invoices"}


def test_failed_restore_is_reported_as_such(store: Store, dev: Path) -> None:
    _apply(dev)
    _edit(dev, "invoices", '"0 2 * * *"', '"0 3 * * *"')
    _edit(dev, "payments", '"30 3 * * *"', '"45 3 * * *"')
    with engine.prepare(_options(dev), for_apply=True) as current:
        store.fail.add(("update", "salam-dev-payments"))
        original_apply = current.backends["memory"].apply

        def apply_then_break(changes):  # type: ignore[no-untyped-def]
            results = original_apply(changes)
            store.fail_reads = True
            return results

        current.backends["memory"].apply = apply_then_break  # type: ignore[method-assign]
        outcome = engine.apply(current)
    assert outcome.status == "restore-failed"


def test_audit_record_and_applied_plans_are_kept(store: Store, dev: Path) -> None:
    outcome = _apply(dev)
    state = dev / ".salam/state/dev"
    [record] = [json.loads(line) for line in (state / "audit.jsonl").read_text().splitlines()]
    assert record["apply_id"] == outcome.apply_id and record["outcome"] == "applied"
    assert len(record["changes"]) == 7 and len(record["digests"]) == 7
    kept = sorted(p.name for p in (state / "plans" / outcome.apply_id).iterdir())
    assert kept[0] == "invoices.json" and len(kept) == 7
    journal = json.loads((state / "journal" / f"{outcome.apply_id}.json").read_text())
    assert journal["status"] == "applied"


def test_killed_apply_leaves_an_unfinished_journal_and_the_next_run_converges(
    store: Store, dev: Path
) -> None:
    with engine.prepare(_options(dev), for_apply=True) as current:
        from reconciler import journal

        journal.start(current.state_dir / "journal", current.change_set.pending(), None)
        # the process dies here, between journal and write
    with engine.prepare(_options(dev), for_apply=True) as current:
        assert any("was interrupted" in note for note in current.notes)
        assert engine.apply(current).status == "applied"
    assert _change_set(dev).empty


def test_job_narrowing_touches_only_that_job(store: Store, dev: Path) -> None:
    _apply(dev, jobs=("payments",))
    assert [k.name for k in store.resources] == ["salam-dev-payments"]
    with pytest.raises(engine.EngineError, match="no job nope"):
        _change_set(dev, jobs=("nope",))


def _hold_lock(path: str, seconds: float) -> None:
    with lock.hold(Path(path), timeout=1):
        time.sleep(seconds)


def test_second_apply_waits_then_names_the_holder(tmp_path: Path) -> None:
    path = tmp_path / "apply.lock"
    holder = multiprocessing.get_context("fork").Process(target=_hold_lock, args=(str(path), 3))
    holder.start()
    try:
        deadline = time.monotonic() + 5
        while not path.exists() or not path.read_text():
            assert time.monotonic() < deadline
            time.sleep(0.05)
        with (
            pytest.raises(lock.LockTimeout, match=f"pid {holder.pid} of"),
            lock.hold(path, timeout=0.5),
        ):
            pass
    finally:
        holder.join()
    with lock.hold(path, timeout=1):
        pass
