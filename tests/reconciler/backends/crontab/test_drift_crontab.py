"""Drift on the real crontab backend: a hand edit is ``modified``, a removed entry ``missing``,
a job removed from config ``orphan``; lines outside Salam's block are never drift.

A copy of ``environments/dev`` (file target ``.salam/cron/salam-dev.cron``) with a second
plain_cron job, applied through the engine; then the file (or the test user's crontab) is
edited by hand and ``reconcile drift`` classifies what it finds.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from reconciler import drift, engine
from reconciler.drift import Finding, Kind
from tests.conftest import clone_job, run_reconcile
from tests.reconciler.backends.crontab.conftest import CronUser

pytestmark = pytest.mark.integration

JOBS = Path("environments/dev/jobs")
CRON_FILE = Path(".salam/cron/salam-dev.cron")


@pytest.fixture
def applied(project: Callable[..., Path]) -> Path:
    """dev with two crontab jobs (subscriptions, subscriptions_eu), applied to the file target."""
    root = project("dev")
    source = (root / JOBS / "subscriptions.yaml").read_text()
    second = clone_job(source, "subscriptions", "subscriptions_eu")
    (root / JOBS / "subscriptions_eu.yaml").write_text(second)
    apply(root)
    return root


def apply(root: Path) -> None:
    with engine.prepare(options(root), for_apply=True) as current:
        assert len(current.change_set.pending()) == 2
        assert engine.apply(current).status == "applied"


def options(root: Path) -> engine.ReconcileOptions:
    return engine.ReconcileOptions(root=root, env="dev", backends=("crontab",))


def findings(root: Path) -> list[Finding]:
    with engine.prepare(options(root)) as current:
        return drift.classify(current.change_set, current.live)


def hand_edit(root: Path, edit: Callable[[str], str]) -> None:
    path = root / CRON_FILE
    before = path.read_text()
    after = edit(before)
    assert after != before, "the edit changed nothing"
    path.write_text(after)


def remove_entry(text: str, job: str) -> str:
    """Delete a job's marker comment and its line, as someone tidying the file would."""
    return re.sub(rf"(?m)^# salam job={job} [^\n]*\n[^\n]*\n", "", text, count=1)


def test_applied_file_has_no_drift(applied: Path) -> None:
    assert findings(applied) == []


def test_hand_edited_schedule_is_modified_with_the_field(applied: Path) -> None:
    hand_edit(applied, lambda t: t.replace("\n30 * * * * cd ", "\n45 * * * * cd ", 1))
    (finding,) = findings(applied)
    assert finding.kind is Kind.MODIFIED
    assert [(f.path, f.before, f.after) for f in finding.fields] == [
        ("schedule", "45 * * * *", "30 * * * *")
    ]


def test_removed_entry_is_missing(applied: Path) -> None:
    hand_edit(applied, lambda t: remove_entry(t, "subscriptions_eu"))
    (finding,) = findings(applied)
    assert (finding.kind, finding.job) == (Kind.MISSING, "subscriptions_eu")


def test_job_removed_from_config_is_orphan(applied: Path) -> None:
    (applied / JOBS / "subscriptions_eu.yaml").unlink()
    (finding,) = findings(applied)
    assert (finding.kind, finding.job) == (Kind.ORPHAN, "subscriptions_eu")


def test_lines_outside_the_block_are_not_drift(applied: Path) -> None:
    hand_edit(applied, lambda t: "0 1 * * * /usr/local/bin/backup\n" + t + "# a note\n")
    assert findings(applied) == []


def test_cli_reports_all_three_and_fixing_them_clears_it(applied: Path, tmp_path: Path) -> None:
    hand_edit(applied, lambda t: t.replace("\n30 * * * * cd ", "\n0 0 * * * cd ", 1))
    hand_edit(applied, lambda t: remove_entry(t, "subscriptions_eu"))
    third = (applied / JOBS / "subscriptions.yaml").read_text()
    third = clone_job(third, "subscriptions", "subscriptions_us")
    (applied / JOBS / "subscriptions_us.yaml").write_text(third)
    apply_only(applied, "subscriptions_us")
    (applied / JOBS / "subscriptions_us.yaml").unlink()

    metrics = tmp_path / "drift.prom"
    result = run_reconcile(
        "drift", "--env", "dev", "--backend", "crontab", "--root", str(applied),
        "--output", "json", "--metrics-file", str(metrics),
    )  # fmt: skip
    assert result.exit_code == 4, result.output
    document = json.loads(result.stdout)
    kinds = {f["job"]: f["kind"] for f in document["findings"]}
    assert kinds == {
        "subscriptions": "modified",
        "subscriptions_eu": "missing",
        "subscriptions_us": "orphan",
    }
    assert 'kind="orphan"} 1' in metrics.read_text()

    with engine.prepare(options(applied), for_apply=True) as current:
        assert engine.apply(current).status == "applied"
    result = run_reconcile("drift", "--env", "dev", "--backend", "crontab", "--root", str(applied))
    assert result.exit_code == 0, result.output


def apply_only(root: Path, job: str) -> None:
    opts = engine.ReconcileOptions(root=root, env="dev", backends=("crontab",), jobs=(job,))
    with engine.prepare(opts, for_apply=True) as current:
        assert engine.apply(current).status == "applied"


def test_hand_edit_of_a_user_crontab_is_modified(
    project: Callable[..., Path], cron_user: CronUser
) -> None:
    root = project("dev")
    settings = root / "environments/dev/environment.yaml"
    text = settings.read_text()
    settings.write_text(text.replace(f"    file: {CRON_FILE}\n", f"    user: {cron_user.name}\n"))
    with engine.prepare(options(root), for_apply=True) as current:
        assert engine.apply(current).status == "applied"
    installed = cron_user.content()
    cron_user.install(installed.replace(b"\n30 * * * * cd ", b"\n15 * * * * cd "))
    (finding,) = findings(root)
    assert finding.kind is Kind.MODIFIED and finding.job == "subscriptions"
    assert [f.path for f in finding.fields] == ["schedule"]
    cron_user.install(b"")
    assert [f.kind for f in findings(root)] == [Kind.MISSING]
