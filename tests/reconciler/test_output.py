"""The change-set text a reviewer reads, as golden files: a create, an update, a delete, a
resource paused by an operator, and a foreign object on a job's key.

The change sets are real: the dev environment's plans (rendered from a copy of its job configs,
edited the way a person would) through the airflow, export and Temporal backends' ``render``,
diffed against live resources built from earlier renders. Nothing is read from or written to a
live system. The backends see a fixed root, so the DAG's ``cd`` path does not depend on where
the tests run.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from ingestion.config import loader
from ingestion.config.modes import Mode
from ingestion.plan import environment as plans
from reconciler import diff, output
from reconciler.backends import base, registry
from reconciler.backends.airflow import AirflowBackend
from reconciler.backends.export import ExportBackend
from reconciler.backends.folder import FolderBackend
from reconciler.model import Action, ChangeSet, DesiredResource, LiveResource
from tests.conftest import TESTDATA, assert_golden, with_second_airflow_job

GOLDEN = TESTDATA / "changeset"
SHOWN_ROOT = Path("/srv/salam")
WEBHOOK = "https://hooks.example.com/finance"


@pytest.fixture
def root(project: Callable[..., Path]) -> Path:
    """A copy of dev with a second airflow job (``invoices_eu``) beside ``invoices``."""
    return with_second_airflow_job(project("dev"))


def environment(root: Path) -> loader.Environment:
    """dev under ``root``, as the backends see it (at :data:`SHOWN_ROOT`)."""
    return dataclasses.replace(loader.load_environment(root, "dev"), root=SHOWN_ROOT)


def render(root: Path, *jobs: str) -> dict[str, DesiredResource]:
    """Job → desired resource, from the job configs under ``root`` as they are now."""
    rendered = plans.render_all(loader.load_environment(root, "dev"), with_git=False)
    registry.load_all()
    backends: dict[str, Any] = {}
    resources = {}
    for job in jobs:
        name = Mode.of(rendered[job]["mode"]).backend
        if name not in backends:
            backends[name] = base.create(name, environment(root))
        resources[job] = backends[name].render(rendered[job])
    return resources


def live(resource: DesiredResource, **changes: Any) -> LiveResource:
    """``resource`` as applied (``changes`` replace LiveResource fields, e.g. ``paused``)."""
    applied = LiveResource(resource.key, resource.job, dict(resource.spec), resource.meta)
    return dataclasses.replace(applied, **changes)


def hand_edited(
    backend: FolderBackend, resource: DesiredResource, change: Callable[[str], str]
) -> LiveResource:
    """``resource`` as applied, then its file edited by hand (``change`` maps the file text)."""
    text = backend.compose(resource.job, resource.spec, resource.meta)
    return live(resource, spec=backend.spec(change(text)))


def set_webhook(text: str) -> str:
    document = json.loads(text)
    document["alerts"]["webhook"] = WEBHOOK
    return json.dumps(document)


def edit(root: Path, job: str, old: str, new: str) -> None:
    path = root / "environments" / "dev" / "jobs" / f"{job}.yaml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def text_of(change_set: ChangeSet, paused: list[LiveResource] | None = None) -> str:
    return output.change_set_text(change_set, paused or []).plain


def with_nested(spec: Mapping[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    """A copy of ``spec`` with ``value`` at ``path``."""
    copied = dict(spec)
    head, *rest = path
    copied[head] = with_nested(spec[head], tuple(rest), value) if rest else value
    return copied


def test_create(root: Path) -> None:
    desired = render(root, "invoices", "payments", "usage_records")
    change_set = diff.compute("dev", desired.values(), [])
    assert [c.action for c in change_set.pending()] == [Action.CREATE] * 3
    assert_golden(text_of(change_set), GOLDEN / "create.txt")


def test_update(root: Path) -> None:
    """A person's config changes (cron, retries), a comment in a job config (digest only),
    and hand edits of a DAG file (a comment) and of a plan file (a webhook)."""
    jobs = ("invoices", "invoices_eu", "miniboss_bss", "payments", "usage_records")
    before = render(root, *jobs)
    airflow, export = AirflowBackend(environment(root)), ExportBackend(environment(root))
    present = [
        live(before["invoices"]),
        hand_edited(airflow, before["invoices_eu"], lambda text: text + "# tweaked by hand\n"),
        live(before["miniboss_bss"]),
        hand_edited(export, before["payments"], set_webhook),
        live(before["usage_records"]),
    ]
    edit(root, "invoices", '"0 2 * * *"', '"0 3 * * *"')
    edit(root, "miniboss_bss", "# Customers", "# Reviewed by finance in June.\n# Customers")
    edit(root, "payments", "count: 3", "count: 5")
    edit(root, "usage_records", '"15 * * * *"', '"45 * * * *"')
    change_set = diff.compute("dev", render(root, *jobs).values(), present)
    assert [c.action for c in change_set.pending()] == [Action.UPDATE] * 5
    assert_golden(text_of(change_set), GOLDEN / "update.txt")
    assert WEBHOOK not in text_of(change_set)
    assert WEBHOOK not in output.dumps(output.change_set_json(change_set))


def test_a_secret_reference_is_shown_a_literal_secret_is_not() -> None:
    assert output.shown("plan.alerts.webhook", "env:FINANCE_WEBHOOK") == "env:FINANCE_WEBHOOK"
    assert output.shown("plan.alerts.webhook", WEBHOOK) == output.REDACTED
    assert output.shown("source.password_ref", "hunter2") == output.REDACTED
    assert output.shown("plan.owner", "finance-data") == "finance-data"
    line = f'  "webhook": "{WEBHOOK}",'
    assert output.shown("source.L0006", line) == output.REDACTED
    assert output.shown("source.L0006", '  "webhook": "env:HOOK",') == '  "webhook": "env:HOOK",'
    assert (
        output.shown("source.L0007", '  "owner": "finance-data",') == '  "owner": "finance-data",'
    )


def test_delete(root: Path) -> None:
    before = render(root, "invoices", "payments", "usage_records")
    (root / "environments" / "dev" / "jobs" / "payments.yaml").unlink()
    (root / "environments" / "dev" / "jobs" / "usage_records.yaml").unlink()
    after = render(root, "invoices")
    change_set = diff.compute("dev", after.values(), [live(r) for r in before.values()])
    assert [c.action for c in change_set.pending()] == [Action.DELETE] * 2
    assert_golden(text_of(change_set), GOLDEN / "delete.txt")


def test_paused_by_an_operator(root: Path) -> None:
    before = render(root, "miniboss_bss", "usage_records")
    paused = [
        live(r, spec=with_nested(r.spec, ("state", "paused"), True), paused=True)
        for r in before.values()
    ]
    edit(root, "usage_records", '"15 * * * *"', '"45 * * * *"')
    change_set = diff.compute("dev", render(root, "miniboss_bss", "usage_records").values(), paused)
    (change,) = change_set.pending()
    assert change.after is not None and change.after.spec["state"]["paused"] is True
    assert_golden(text_of(change_set, paused), GOLDEN / "paused.txt")


def test_a_job_that_says_paused_false_is_resumed_and_says_so(root: Path) -> None:
    (resource,) = render(root, "usage_records").values()
    paused = live(resource, spec=with_nested(resource.spec, ("state", "paused"), True), paused=True)
    edit(root, "usage_records", "jitter: 2m\n", "jitter: 2m\n        paused: false\n")
    change_set = diff.compute("dev", render(root, "usage_records").values(), [paused])
    text = text_of(change_set, [paused])
    assert "! paused by an operator outside Salam; this apply resumes it" in text
    assert "~ state.paused: true -> false" in text
    assert "stays paused" not in text


def test_foreign_object_on_a_jobs_key(root: Path) -> None:
    desired = render(root, "invoices", "payments")
    theirs = ExportBackend(environment(root)).spec('{"owner": "finance"}\n')
    foreign = live(desired["payments"], spec=theirs, meta={}, managed=False)
    change_set = diff.compute("dev", desired.values(), [foreign])
    assert change_set.conflicts == (foreign,) and not change_set.in_sync
    assert_golden(text_of(change_set), GOLDEN / "conflict.txt")


def test_json_keeps_the_derived_fields_the_text_hides(root: Path) -> None:
    before = render(root, "miniboss_bss", "payments")
    edit(root, "miniboss_bss", "# Customers", "# Reviewed.\n# Customers")
    edit(root, "payments", "# Payments", "# Reviewed.\n# Payments")
    change_set = diff.compute(
        "dev", render(root, "miniboss_bss", "payments").values(), [live(r) for r in before.values()]
    )
    paths = {f["path"] for c in output.change_set_json(change_set)["changes"] for f in c["fields"]}
    assert "action.args[0].bookkeeping.config_sha256" in paths
    assert "plan.bookkeeping.digest" in paths
    assert any(p.startswith("source.L") for p in paths)
    text = text_of(change_set)
    assert "bookkeeping" not in text and "source.L" not in text
    assert text.count("      ~ plan digest changed\n") == 2


def test_in_sync_and_paused(root: Path) -> None:
    (resource,) = render(root, "usage_records").values()
    paused = live(resource, spec=with_nested(resource.spec, ("state", "paused"), True), paused=True)
    change_set = diff.compute("dev", [resource], [paused])
    assert text_of(change_set, [paused]) == (
        "No changes: environment 'dev' is in sync.\n"
        f"  ! {resource.key} is paused by an operator outside Salam; it stays paused\n"
    )


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("plan.bookkeeping.digest", output.Derived.DIGEST),
        ("action.args[0].bookkeeping.config_sha256", output.Derived.DIGEST),
        ("source.L0012", output.Derived.FILE_TEXT),
        ("plan.schedule.cron", None),
        ("dag.command", None),
        ("action.args[0].source.tables", None),
        ("bookkeeping_note", None),
    ],
)
def test_derived_paths(path: str, kind: output.Derived | None) -> None:
    assert output.Derived.of(path) is kind
