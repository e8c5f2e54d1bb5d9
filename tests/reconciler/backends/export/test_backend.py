"""The export backend through the Backend protocol: one canonical plan JSON per job, marked,
reconciled like the rest (create / update / delete, hand edits as drift, ownership)."""

from __future__ import annotations

import json
from collections.abc import Callable

from ingestion.plan import canonical
from reconciler import diff, output
from reconciler.model import Action, Change
from tests.reconciler.backends.export.conftest import Harness, plan

NAME = "salam-dev-payments.json"


def test_create_writes_the_plan_with_a_marker(harness: Callable[..., Harness]) -> None:
    h = harness()
    (change,) = h.change_set([plan()]).pending()
    assert change.action is Action.CREATE
    assert str(change.key) == f"export/.salam/export/dev/{NAME}"
    h.reconcile([plan()])
    text = h.file(NAME).read_text()
    document = json.loads(text)
    assert text == canonical.dumps(document)
    marker = document.pop("salam")
    assert marker == {
        "managed_by": "salam",
        "env": "dev",
        "job": "payments",
        "digest": "abababababab",
        "revision": "e50c42a4b8b3",
    }
    assert document == canonical.without_git(plan())
    assert h.change_set([plan()]).empty


def test_update_and_revision_only_change(harness: Callable[..., Harness]) -> None:
    h = harness()
    h.reconcile([plan()])
    moved = plan()
    moved["bookkeeping"]["git_revision"] = "f" * 40
    assert h.change_set([moved]).empty
    later = plan(schedule={"cron": "0 5 * * *", "timezone": "UTC"})
    (change,) = h.change_set([later]).pending()
    fields = {f.path: (f.before, f.after) for f in change.fields}
    assert fields["plan.schedule.cron"] == ("30 3 * * *", "0 5 * * *")
    h.reconcile([later])
    assert json.loads(h.file(NAME).read_text())["schedule"]["cron"] == "0 5 * * *"


def test_hand_edit_is_drift_even_of_a_null(harness: Callable[..., Harness]) -> None:
    h = harness()
    h.reconcile([plan()])
    original = h.file(NAME).read_text()
    document = json.loads(original)
    document["alerts"]["webhook"] = "https://hooks.example.com/x"
    document["retries"]["count"] = 0
    h.file(NAME).write_text(json.dumps(document))
    (change,) = h.change_set([plan()]).pending()
    fields = {f.path: (f.before, f.after) for f in change.fields}
    assert fields["plan.retries.count"] == (0, 3)
    assert fields["plan.alerts.webhook"] == ("https://hooks.example.com/x", None)
    assert any(p.startswith("source.") for p in fields)
    h.reconcile([plan()])
    assert h.file(NAME).read_text() == original


def test_removed_null_entry_shows_as_file_text_only(harness: Callable[..., Harness]) -> None:
    h = harness()
    h.reconcile([plan()])
    original = h.file(NAME).read_text()
    document = json.loads(original)
    del document["alerts"]["webhook"]
    h.file(NAME).write_text(canonical.dumps(document))
    (change,) = h.change_set([plan()]).pending()
    assert change.fields and all(f.path.startswith("source.L") for f in change.fields)
    assert output.change_text(change).plain.endswith("\n      ~ file text differs\n")
    h.reconcile([plan()])
    assert h.file(NAME).read_text() == original


def test_delete_prunes_ours_only(harness: Callable[..., Harness]) -> None:
    h = harness()
    h.reconcile([plan(), plan("ledger")])
    (h.file("handmade.json")).write_text('{"mine": true}\n')
    (h.file("broken.json")).write_text("{not json\n")
    uat_text = h.file(NAME).read_text().replace('"env": "dev"', '"env": "uat"')
    (h.file("salam-uat-payments.json")).write_text(uat_text)
    (change,) = h.change_set([plan()]).pending()
    assert (change.action, change.key.name) == (Action.DELETE, "salam-dev-ledger.json")
    h.reconcile([plan()])
    assert sorted(p.name for p in h.folder.iterdir()) == [
        "broken.json",
        "handmade.json",
        NAME,
        "salam-uat-payments.json",
    ]


def test_unmarked_file_with_the_desired_name_is_a_conflict(
    harness: Callable[..., Harness],
) -> None:
    h = harness()
    h.folder.mkdir(parents=True)
    h.file(NAME).write_text('{"schedule": "theirs"}\n')
    changes = h.change_set([plan()])
    assert changes.pending() == ()
    (conflict,) = changes.conflicts
    forced = Change(conflict.key, Action.UPDATE, conflict, h.backend.render(plan()))
    (result,) = h.backend.apply([forced])
    assert not result.ok and "not managed by Salam" in result.error
    assert h.file(NAME).read_text() == '{"schedule": "theirs"}\n'


def test_rollback_recreates_the_exact_file_from_a_live_spec(
    harness: Callable[..., Harness],
) -> None:
    h = harness()
    h.reconcile([plan()])
    before_bytes = h.file(NAME).read_bytes()
    (before,) = h.backend.read()
    h.reconcile([plan(owner="someone-else")])
    restore = diff.compute("dev", [before.as_desired()], h.backend.read())
    assert all(r.ok for r in h.backend.apply(restore.pending()))
    assert h.file(NAME).read_bytes() == before_bytes


def test_external_scheduler_plans_go_to_the_same_folder(harness: Callable[..., Harness]) -> None:
    h = harness()
    tariff = plan("tariff_catalog", mode="external_scheduler", external={"provider": "control-m"})
    h.reconcile([plan(), tariff])
    assert sorted(p.name for p in h.folder.iterdir()) == [NAME, "salam-dev-tariff_catalog.json"]
