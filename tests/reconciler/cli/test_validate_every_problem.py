"""One run shows every problem of every job: schema errors, cross-field errors and the policy
denials of the jobs that are valid, from ``reconcile validate`` and from the reconcile loop's
load step (``reconcile --dry-run``, also at a git revision); always exit 3."""

from __future__ import annotations

import json
import subprocess
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from reconciler import policy
from tests.conftest import run_reconcile
from tests.reconciler.policy_helpers import compliant_prod, edit, with_policies

PROD = "environments/prod/jobs"
# (code, file, path) of every problem the broken prod copy has; where a policy finding points
# inside its file is the policy's own business, so it is compared by code and file only
EVERY_PROBLEM = [
    ("SALAM-PROD-SCHEDULE-FREQUENCY", f"{PROD}/network_events.yaml", "(policy)"),
    ("invalid-cron", f"{PROD}/payments.yaml", "$.runtime.orchestration.external.expression"),
    ("invalid-value", f"{PROD}/payments.yaml", "$.owner"),
    (
        "invalid-timezone",
        f"{PROD}/usage_records.yaml",
        "$.runtime.orchestration.temporal.schedule.timezone",
    ),
]


@pytest.fixture(autouse=True)
def _fresh_bundles() -> None:
    policy.clear_cache()


def _break_prod(root: Path) -> None:
    """payments: a schema error and a cross-field error; usage_records: a cross-field error;
    network_events: valid, but denied by a policy (every 5 minutes in prod)."""
    compliant_prod(root)
    edit(root, "prod", "payments", lambda t: t.replace("owner: finance-data", "owner: Finance"))
    edit(root, "prod", "payments", lambda t: t.replace('"30 3 * * *"', '"30 3 * * * *"'))
    edit(root, "prod", "usage_records", lambda t: t.replace("timezone: UTC", "timezone: Eur/Paris"))
    edit(root, "prod", "network_events", lambda t: t.replace('"*/30 * * * *"', '"*/5 * * * *"'))


def _problems(stdout: str) -> list[tuple[str, str, str]]:
    document = json.loads(stdout)
    assert document["ok"] is False and document["exit_code"] == 3
    return sorted(
        (d["code"], d["file"], "(policy)" if d["code"].startswith("SALAM-") else d["path"])
        for d in document["diagnostics"]
    )


def test_validate_shows_schema_cross_field_and_policy_problems_at_once(
    project: Callable[..., Path],
) -> None:
    root = with_policies(project("prod"))
    _break_prod(root)

    result = run_reconcile("validate", "--env", "prod", "--root", str(root), "-o", "json")
    text = run_reconcile("validate", "--env", "prod", "--root", str(root))

    assert result.exit_code == 3 and text.exit_code == 3
    assert _problems(result.stdout) == sorted(EVERY_PROBLEM)
    lines = text.stderr.splitlines()
    assert len(lines) == 4
    assert any("error[SALAM-PROD-SCHEDULE-FREQUENCY]" in line for line in lines)
    assert any("did you mean 'Europe/Paris'?" in line for line in lines)
    assert all(line.startswith(f"{PROD}/") and ": error[" in line for line in lines)


def test_the_reconcile_loop_refuses_with_the_same_problems(project: Callable[..., Path]) -> None:
    root = with_policies(project("prod"))
    _break_prod(root)
    result = run_reconcile("--env", "prod", "--dry-run", "--root", str(root), "-o", "json")
    assert result.exit_code == 3, result.output
    assert _problems(result.stdout) == sorted(EVERY_PROBLEM)


def test_a_broken_environment_file_stops_before_rendering(project: Callable[..., Path]) -> None:
    # every job inherits environment.yaml: with it broken no job is rendered or policy-checked,
    # but every job's own problems are still listed
    root = with_policies(project("prod"))
    _break_prod(root)
    settings = root / "environments" / "prod" / "environment.yaml"
    settings.write_text(settings.read_text() + "unknown_section: true\n")
    result = run_reconcile("validate", "--env", "prod", "--root", str(root), "-o", "json")
    assert result.exit_code == 3
    assert _problems(result.stdout) == sorted(
        [
            *EVERY_PROBLEM[1:],
            ("unknown-key", "environments/prod/environment.yaml", "$.unknown_section"),
        ]
    )


def _git(root: Path, *args: str) -> None:
    identity = ("-c", "user.name=Salam Test", "-c", "user.email=test@salam.local")
    subprocess.run(["git", "-C", str(root), *identity, *args], check=True, capture_output=True)


def _commit_all(root: Path) -> None:
    (root / ".gitignore").write_text(".salam/\n")
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "configs")


def test_a_revision_shows_every_problem_with_the_projects_policies(
    project: Callable[..., Path],
) -> None:
    root = with_policies(project("prod"))
    _break_prod(root)
    _commit_all(root)
    args = ("--env", "prod", "--revision", "HEAD", "--dry-run", "--root", str(root), "-o", "json")
    result = run_reconcile(*args)
    assert result.exit_code == 3, result.output
    assert _problems(result.stdout) == sorted(EVERY_PROBLEM)


@pytest.mark.parametrize("filters", [True, False], ids=["data filter", "no filters (3.11.2)"])
def test_a_committed_link_out_of_the_project_is_refused_at_a_revision(
    project: Callable[..., Path],
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    filters: bool,
) -> None:
    if not filters:  # the fallback path Debian 12's Python 3.11.2 takes (no filters); the real
        # 3.11.2 runs revisions in tests/release/test_controller_image.py
        monkeypatch.delattr(tarfile, "data_filter")
    root = project("dev")
    outside = tmp_path_factory.mktemp("elsewhere") / "linked.yaml"
    jobs = root / "environments" / "dev" / "jobs"
    outside.write_text((jobs / "payments.yaml").read_text().replace("payments", "linked"))
    (jobs / "linked.yaml").symlink_to(outside)
    _commit_all(root)
    args = ("--env", "dev", "--revision", "HEAD", "--dry-run", "--root", str(root))
    result = run_reconcile(*args)
    assert result.exit_code == 3, result.output
    assert result.stderr.startswith(
        "environments/dev/jobs/linked.yaml: error[outside-project] $: resolves outside the project"
    )
