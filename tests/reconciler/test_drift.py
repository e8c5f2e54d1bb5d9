"""Drift classification on the in-memory backend: each kind, then the ignore rules."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from reconciler import drift, engine
from reconciler.backends.memory import Store
from reconciler.drift import Finding, Kind, Rule
from reconciler.model import (
    Action,
    Change,
    ChangeSet,
    DesiredResource,
    FieldChange,
    LiveResource,
    ResourceKey,
)
from tests.reconciler.engine import conftest as memory_fixtures

store = memory_fixtures.store  # every mode routed to a fresh in-memory backend


@pytest.fixture
def dev(project: Callable[..., Path], store: Store) -> Path:
    """A dev project, applied: live equals config."""
    root = project("dev")
    with engine.prepare(engine.ReconcileOptions(root=root, env="dev"), for_apply=True) as current:
        assert engine.apply(current).status == "applied"
    return root


def findings_of(root: Path, **options: object) -> list[Finding]:
    opts = engine.ReconcileOptions(root=root, env="dev", **options)  # type: ignore[arg-type]
    with engine.prepare(opts) as current:
        found = drift.classify(current.change_set, current.live)
        return drift.apply_ignores(found, drift.rules_of(current.environment.settings))


def key(name: str) -> ResourceKey:
    return ResourceKey("memory", "dev", name)


def kinds(findings: list[Finding]) -> dict[str, str]:
    return {f.key.name: f.kind.value for f in findings if f.counts}


def test_in_sync_has_no_findings(dev: Path) -> None:
    assert findings_of(dev) == []


def test_hand_edit_is_modified_with_field_detail(dev: Path, store: Store) -> None:
    live = store.resources[key("ingest_invoices")]
    spec = {**live.spec, "schedule": {**live.spec["schedule"], "cron": "0 5 * * *"}}
    store.resources[live.key] = replace(live, spec=spec)
    (finding,) = findings_of(dev)
    assert finding.kind is Kind.MODIFIED and finding.job == "invoices"
    assert finding.fields == (FieldChange("schedule.cron", "0 5 * * *", "0 2 * * *"),)


def test_deleted_by_hand_is_missing(dev: Path, store: Store) -> None:
    del store.resources[key("salam-dev-payments")]
    assert kinds(findings_of(dev)) == {"salam-dev-payments": "missing"}


def test_job_gone_from_config_is_orphan(dev: Path) -> None:
    (dev / "environments/dev/jobs/payments.yaml").unlink()
    assert kinds(findings_of(dev)) == {"salam-dev-payments": "orphan"}


def test_unmanaged_resource_colliding_with_a_job_is_foreign(dev: Path, store: Store) -> None:
    live = store.resources[key("ingest_invoices")]
    store.resources[live.key] = replace(live, managed=False, meta={})
    (finding,) = findings_of(dev)
    assert (finding.kind, finding.job) == (Kind.FOREIGN, "invoices")


def test_operator_pause_is_paused(dev: Path, store: Store) -> None:
    live = store.resources[key("ingest_invoices")]
    store.resources[live.key] = replace(live, paused=True)
    assert kinds(findings_of(dev)) == {"ingest_invoices": "paused"}


def test_paused_and_modified_give_two_findings(dev: Path, store: Store) -> None:
    live = store.resources[key("ingest_invoices")]
    store.resources[live.key] = replace(live, paused=True, spec={**live.spec, "command": ["x"]})
    assert [f.kind for f in findings_of(dev)] == [Kind.MODIFIED, Kind.PAUSED]


def paused_with(path: str, *others: FieldChange, action: Action = Action.UPDATE) -> list[Finding]:
    """Classify one operator-paused resource whose change sets ``path`` back to false."""
    spec = {"schedule": "x"}
    live = LiveResource(key("x"), "x", spec, {"revision": "abc"}, paused=True)
    desired = DesiredResource(key("x"), "x", spec)
    fields = (FieldChange(path, True, False), *others) if action is Action.UPDATE else ()
    change = Change(key("x"), action, live, desired if action is Action.UPDATE else None, fields)
    return drift.classify(ChangeSet("dev", (change,)), [live])


@pytest.mark.parametrize("path", ["state.paused", "suspend"])  # Temporal's, a CronJob's
def test_a_pause_the_config_undoes_is_one_paused_finding(path: str) -> None:
    (finding,) = paused_with(path)
    assert finding.kind is Kind.PAUSED and finding.live_revision == "abc"
    assert finding.fields == (FieldChange(path, True, False),)
    assert drift.summary([finding])["modified"] == 0


def test_a_pause_and_another_difference_split_by_field() -> None:
    cron = FieldChange("schedule", "0 5 * * *", "0 2 * * *")
    modified, paused = paused_with("suspend", cron)
    assert (paused.kind, [f.path for f in paused.fields]) == (Kind.PAUSED, ["suspend"])
    assert (modified.kind, modified.fields) == (Kind.MODIFIED, (cron,))


def test_a_paused_orphan_is_both() -> None:
    assert [f.kind for f in paused_with("suspend", action=Action.DELETE)] == [
        Kind.ORPHAN,
        Kind.PAUSED,
    ]


def test_a_pause_field_of_a_resource_not_paused_by_an_operator_is_modified() -> None:
    live = LiveResource(key("x"), "x", {}, {})
    change = Change(key("x"), Action.UPDATE, live, None, (FieldChange("suspend", True, False),))
    (finding,) = drift.classify(ChangeSet("dev", (change,)), [live])
    assert finding.kind is Kind.MODIFIED


def test_job_filter_limits_findings(dev: Path, store: Store) -> None:
    del store.resources[key("salam-dev-payments")]
    del store.resources[key("ingest_invoices")]
    assert kinds(findings_of(dev, jobs=("payments",))) == {"salam-dev-payments": "missing"}


def test_summary_and_per_backend_count_only_unignored(dev: Path, store: Store) -> None:
    del store.resources[key("salam-dev-payments")]
    live = store.resources[key("ingest_invoices")]
    store.resources[live.key] = replace(live, paused=True)
    found = drift.apply_ignores(findings_of(dev), [Rule("maintenance", kind=Kind.PAUSED)])
    assert drift.summary(found) == {
        "modified": 0,
        "missing": 1,
        "orphan": 0,
        "foreign": 0,
        "paused": 0,
    }
    assert drift.per_backend(found) == {("memory", "missing"): 1}


MODIFIED = Finding(
    Kind.MODIFIED,
    ResourceKey("temporal", "ns", "salam-dev-orders"),
    "orders",
    (
        FieldChange("calendar.cron", "0 3 * * *", "15 * * * *"),
        FieldChange("calendar.jitter_seconds", 30, 0),
        FieldChange("state.paused", True, False),
    ),
)
MISSING = Finding(Kind.MISSING, ResourceKey("crontab", "file", "legacy_a"), "legacy_a")


@pytest.mark.parametrize(
    ("rule", "accepted"),
    [
        (Rule("r", kind=Kind.MISSING), {"legacy_a"}),
        (Rule("r", backend="crontab"), {"legacy_a"}),
        (Rule("r", job="legacy_*"), {"legacy_a"}),
        (Rule("r", job="orders", kind=Kind.MODIFIED), {"salam-dev-orders"}),
        (Rule("r", backend="temporal", kind=Kind.MISSING), set()),
        (Rule("r", job="legacy"), set()),
        (Rule("r"), {"legacy_a", "salam-dev-orders"}),
    ],
)
def test_ignore_rule_selectors_must_all_match(rule: Rule, accepted: set[str]) -> None:
    found = drift.apply_ignores([MODIFIED, MISSING], [rule])
    assert {f.key.name for f in found if not f.counts} == accepted
    assert all(f.reasons == ("r",) for f in found if not f.counts)


def test_field_rule_hides_only_matching_fields() -> None:
    (found,) = drift.apply_ignores([MODIFIED], [Rule("jitter is tuned by hand", field="calendar")])
    assert found.counts
    assert [f.path for f in found.fields] == ["state.paused"]
    assert [f.path for f in found.ignored_fields] == ["calendar.cron", "calendar.jitter_seconds"]
    assert found.reasons == ("jitter is tuned by hand",)


def test_field_rules_hiding_every_field_accept_the_finding() -> None:
    rules = [Rule("a", field="calendar"), Rule("b", field="state.paused"), Rule("c", field="st")]
    (found,) = drift.apply_ignores([MODIFIED], rules)
    assert not found.counts and found.fields == () and found.reasons == ("a", "b")


def test_field_rule_never_applies_to_other_kinds() -> None:
    (found,) = drift.apply_ignores([MISSING], [Rule("r", field="schedule")])
    assert found.counts


def test_ignore_rules_from_environment_yaml(dev: Path, store: Store) -> None:
    settings = dev / "environments/dev/environment.yaml"
    settings.write_text(
        settings.read_text()
        + "drift:\n  ignore:\n"
        + "    - {job: payments, kind: missing, reason: 'moved to Airflow, TICKET-12'}\n"
        + "  webhook: env:SALAM_DRIFT_WEBHOOK_URL\n"
    )
    del store.resources[key("salam-dev-payments")]
    (finding,) = findings_of(dev)
    assert not finding.counts and finding.reasons == ("moved to Airflow, TICKET-12",)
    assert finding.to_json()["ignored"] is True


def test_ignore_rule_without_reason_is_invalid_config(dev: Path) -> None:
    from ingestion.config.diagnostics import ConfigError

    settings = dev / "environments/dev/environment.yaml"
    settings.write_text(settings.read_text() + "drift:\n  ignore:\n    - {job: payments}\n")
    with pytest.raises(ConfigError):
        findings_of(dev)


def test_live_revision_comes_from_the_live_marker() -> None:
    live = LiveResource(key("x"), "x", {}, {"revision": "abc"}, paused=True)
    change_set = drift.ChangeSet("dev", ())
    (finding,) = drift.classify(change_set, [live])
    assert finding.live_revision == "abc"
