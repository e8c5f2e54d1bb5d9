"""Restore after a failed apply, backend by backend, on two in-memory backends: ``alpha`` takes
every mode but ``temporal``, which goes to ``omega`` (applied last, like the real Temporal
backend). A backend that goes away never stops the others' restore; what could not be restored
is listed with the journal keeping its before-images, and the next run reports it and converges.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from reconciler import engine
from reconciler.backends.memory import Store
from reconciler.model import Action, ApplyStatus, LiveResource, ResultStatus
from tests.conftest import clone_job, run_reconcile
from tests.reconciler.engine.conftest import two_stores

TEMPORAL_JOBS = {"omega/dev/miniboss_ingest", "omega/dev/salam-dev-usage_records"}


@pytest.fixture
def stores(monkeypatch: pytest.MonkeyPatch) -> tuple[Store, Store]:
    return two_stores(monkeypatch)


@pytest.fixture
def applied(project: Callable[..., Path], stores: tuple[Store, Store]) -> Path:
    """The dev environment applied once, then a default changed: every job is an update."""
    root = project("dev")
    assert _apply(root).status is ApplyStatus.APPLIED
    settings = root / "environments/dev/environment.yaml"
    text = settings.read_text()
    assert "    driver_memory: 1g\n" in text
    settings.write_text(text.replace("    driver_memory: 1g\n", "    driver_memory: 2g\n"))
    return root


def _apply(root: Path) -> engine.ApplyOutcome:
    options = engine.ReconcileOptions(root=root, env="dev", lock_timeout=5)
    with engine.prepare(options, for_apply=True) as current:
        return engine.apply(current)


def _journal(root: Path, outcome: engine.ApplyOutcome) -> dict[str, object]:
    path = root / ".salam/state/dev/journal" / f"{outcome.apply_id}.json"
    assert outcome.journal == path
    document: dict[str, object] = json.loads(path.read_text())
    return document


def test_a_backend_dying_mid_apply_does_not_stop_the_others_restore(
    applied: Path, stores: tuple[Store, Store]
) -> None:
    alpha, omega = stores
    before = dict(alpha.resources)
    omega.down_after_writes = omega.writes + 1  # dies after its first update

    outcome = _apply(applied)

    assert outcome.status is ApplyStatus.RESTORE_FAILED and outcome.status.exit_code == 5
    changed = {r.change.key for r in outcome.results if r.ok}
    assert len(changed) == 5  # alpha's 4 updates and omega's first, then omega died
    assert alpha.resources == before, "alpha is restored although omega is gone"
    assert {r.change.key for r in outcome.restored if r.ok} == {
        k for k in changed if k.backend == "alpha"
    }
    failed = [r for r in outcome.restored if not r.ok]
    assert {str(r.change.key) for r in failed} == TEMPORAL_JOBS
    for result in failed:
        assert result.status is ResultStatus.FAILED
        assert "omega backend: reads are failing" in result.error
        assert result.error.endswith(f"; before-image in {outcome.journal}")
    journal = _journal(applied, outcome)
    assert journal["status"] == "restore-failed"
    assert journal["not_restored"] == sorted(TEMPORAL_JOBS)


def test_the_next_run_reports_a_failed_restore_once_and_converges(
    applied: Path, stores: tuple[Store, Store]
) -> None:
    _, omega = stores
    omega.down_after_writes = omega.writes + 1
    failed = _apply(applied)
    omega.down_after_writes = None  # the server is back

    options = engine.ReconcileOptions(root=applied, env="dev", lock_timeout=5)
    with engine.prepare(options, for_apply=True) as current:
        assert current.notes == [
            f"apply {failed.apply_id} failed and could not restore "
            f"{', '.join(sorted(TEMPORAL_JOBS))}; converging from the live state; "
            f"before-images in {failed.journal}"
        ]
        assert len(current.change_set.pending()) == 5  # omega's first update went through
        assert engine.apply(current).status is ApplyStatus.APPLIED
    with engine.prepare(options, for_apply=True) as current:
        assert current.notes == [] and current.change_set.in_sync
    assert _journal(applied, failed)["status"] == "restore-failed"


def test_a_backend_whose_batch_never_ran_is_not_needed_for_the_restore(
    applied: Path, stores: tuple[Store, Store]
) -> None:
    alpha, omega = stores
    before = dict(alpha.resources)
    alpha.fail.add(("update", "salam-dev-payments"))  # alpha fails: omega's batch is skipped
    options = engine.ReconcileOptions(root=applied, env="dev", lock_timeout=5)
    with engine.prepare(options, for_apply=True) as current:
        omega.fail_reads = True  # omega goes away after the read: no restore could read it
        outcome = engine.apply(current)

    assert outcome.status is ApplyStatus.ROLLED_BACK
    assert alpha.resources == before
    skipped = {str(r.change.key) for r in outcome.results if r.status is ResultStatus.SKIPPED}
    assert skipped >= TEMPORAL_JOBS
    assert outcome.restored and all(r.ok for r in outcome.restored)


def test_a_restore_write_that_fails_is_listed_and_the_rest_restored(
    applied: Path, stores: tuple[Store, Store]
) -> None:
    alpha, omega = stores
    copy = applied / "environments/dev/jobs/payments_copy.yaml"
    payments = (applied / "environments/dev/jobs/payments.yaml").read_text()
    copy.write_text(clone_job(payments, "payments", "payments_copy"))
    before_alpha, before_omega = dict(alpha.resources), dict(omega.resources)
    alpha.fail.add(("delete", "salam-dev-payments_copy"))  # its restore is a delete: refused
    omega.fail.add(("update", "salam-dev-usage_records"))  # the apply fails in omega

    outcome = _apply(applied)

    assert outcome.status is ApplyStatus.RESTORE_FAILED
    [failed] = [r for r in outcome.restored if not r.ok]
    assert str(failed.change.key) == "alpha/dev/salam-dev-payments_copy"
    assert failed.error == (
        f"not restored (injected failure on delete); before-image in {outcome.journal}"
    )
    left = {k: v for k, v in alpha.resources.items() if k.name != "salam-dev-payments_copy"}
    assert left == before_alpha, "every other alpha resource is restored"
    assert omega.resources == before_omega
    assert _journal(applied, outcome)["not_restored"] == ["alpha/dev/salam-dev-payments_copy"]


def test_cli_lists_what_was_restored_and_what_was_not(
    applied: Path, stores: tuple[Store, Store]
) -> None:
    _, omega = stores
    omega.down_after_writes = omega.writes + 1

    result = run_reconcile("--env", "dev", "--root", str(applied), "--lock-timeout", "5")

    assert result.exit_code == 5, result.output
    [journal] = [
        path
        for path in (applied / ".salam/state/dev/journal").glob("*.json")
        if json.loads(path.read_text())["status"] == "restore-failed"
    ]
    restored_part, _, rest = result.stdout.partition("NOT restored (2):\n")
    not_restored_part, _, verdict = rest.partition("RESTORE FAILED: ")
    restored_lines = restored_part.partition("from the journal:\n")[2].splitlines()
    assert len(restored_lines) == 4
    assert all(line.startswith("  ~ alpha/dev/") for line in restored_lines)
    assert "  ~ alpha/dev/ingest_invoices: updated" in restored_lines
    for key in sorted(TEMPORAL_JOBS):
        assert f"  ! {key}: update failed: not restored (omega backend: reads are" in (
            not_restored_part
        )
    assert not_restored_part.count(f"; before-image in {journal}\n") == 2
    assert verdict.startswith(
        f"4 resource(s) restored, 2 not; their before-images are in {journal}."
    )
    omega.down_after_writes = None
    again = run_reconcile(
        "--env", "dev", "--root", str(applied), "--lock-timeout", "5", "-o", "json"
    )
    document = json.loads(again.stdout)
    assert document["exit_code"] == 0 and document["outcome"] == "applied"
    [note] = document["notes"]
    assert note.startswith(f"apply {journal.stem} failed and could not restore ")
    assert note.endswith(f"before-images in {journal}")


def test_an_adopted_object_is_given_back_unmarked_when_the_apply_fails(
    project: Callable[..., Path], stores: tuple[Store, Store]
) -> None:
    alpha, omega = stores
    root = project("dev")
    assert _apply(root).status is ApplyStatus.APPLIED
    [key] = [k for k in alpha.resources if k.name == "salam-dev-payments"]
    theirs = {**alpha.resources[key].spec, "schedule": {"cron": "0 4 * * *"}}
    alpha.resources[key] = LiveResource(key, "payments", theirs, {}, managed=False)  # by hand
    omega.fail.add(("update", "salam-dev-usage_records"))  # after alpha's adopt: rolled back
    settings = root / "environments/dev/environment.yaml"
    text = settings.read_text()
    settings.write_text(text.replace("    driver_memory: 1g\n", "    driver_memory: 2g\n"))

    options = engine.ReconcileOptions(root=root, env="dev", lock_timeout=5, adopt=True)
    with engine.prepare(options, for_apply=True) as current:
        assert current.change_set.count(Action.ADOPT) == 1
        outcome = engine.apply(current)

    assert outcome.status is ApplyStatus.ROLLED_BACK
    given_back = alpha.resources[key]
    assert not given_back.managed and given_back.spec == theirs  # as it was: not Salam's
    with engine.prepare(engine.ReconcileOptions(root=root, env="dev")) as current:
        assert [c.key for c in current.change_set.conflicts] == [key]  # a collision again
    entries = _journal(root, outcome)["entries"]
    kept = {e["key"][2]: e["before"]["managed"] for e in entries}  # type: ignore[index]
    assert kept["salam-dev-payments"] is False and kept["salam-dev-usage_records"] is True
