"""The bad-input corpus: every broken config is refused with exit 3, located, actionable
diagnostics (golden output), all at once, without echoing a secret and without writing anything."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import TESTDATA, assert_golden, clone_job, run_reconcile

BAD = TESTDATA / "config" / "bad"
CASES = sorted(p.stem for p in BAD.glob("*.yaml"))


def _with_job(project: Callable[..., Path], case: str) -> Path:
    root = project("dev", jobs=False)
    shutil.copy(BAD / f"{case}.yaml", root / "environments" / "dev" / "jobs" / f"{case}.yaml")
    return root


@pytest.mark.parametrize("case", CASES)
def test_bad_job_config_is_refused_with_located_diagnostics(
    project: Callable[..., Path], case: str
) -> None:
    root = _with_job(project, case)
    before = sorted(p.relative_to(root) for p in root.rglob("*"))

    result = run_reconcile("validate", "--env", "dev", "--root", str(root))

    assert result.exit_code == 3, result.output
    assert f"environments/dev/jobs/{case}.yaml:" in result.stderr
    assert_golden(result.stderr, BAD / f"{case}.golden")
    assert sorted(p.relative_to(root) for p in root.rglob("*")) == before


def test_all_problems_are_reported_at_once(project: Callable[..., Path]) -> None:
    root = _with_job(project, "wrong_types")
    result = run_reconcile("validate", "--env", "dev", "--root", str(root))
    assert result.stderr.count("error[") >= 3


SECRETS = {
    "literal_secrets": ("S3cretPassw0rd", "hunter2-literal", "XXXXsecretXXXX"),
    # a token in a *_ref field, a random key in an enum, credentials in a URL, a token as a key
    "secret_values": (
        "SlackBotTokenNeverShown",
        "4242424242",
        "Zq8vR2mX7kLp4Tn9Wb3Yc6Hd1Fg5Js0A",
        "Tz-Pa55word-NeverShown",
        "Q7mZ2xR9vK4bT8nW3yH6cL1pF5sD0gJ2aE",
    ),
}


@pytest.mark.parametrize("case", sorted(SECRETS))
@pytest.mark.parametrize("fmt", ["text", "json"])
def test_secret_values_never_appear_in_errors(
    project: Callable[..., Path], case: str, fmt: str
) -> None:
    root = _with_job(project, case)
    result = run_reconcile("validate", "--env", "dev", "--root", str(root), "--output", fmt)
    assert result.exit_code == 3
    assert result.stdout + result.stderr  # something was said, and none of it is a secret
    for secret in SECRETS[case]:
        assert secret not in result.stdout + result.stderr


PEM = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----"


@pytest.mark.parametrize(
    ("override", "problem"),
    [
        # a key where a reference belongs: schema and literal-secret errors, located at --set
        (f"temporal.tls.client_key={PEM}", "--set: error[invalid-value] $.temporal.tls.client_key"),
        # not YAML at all: PyYAML's own message would quote the text
        (f"temporal.api_key={PEM}: [oops", "--set: error[bad-override] $: override 'temporal.api"),
    ],
)
@pytest.mark.parametrize("fmt", ["text", "json"])
def test_a_secret_given_with_set_is_never_echoed(
    project: Callable[..., Path], override: str, problem: str, fmt: str
) -> None:
    root = project("dev")
    args = ("validate", "--env", "dev", "--root", str(root), "-o", fmt, "--set", override)
    result = run_reconcile(*args)
    assert result.exit_code == 3, result.output
    output = result.stdout + result.stderr
    if fmt == "text":
        assert problem in result.stderr  # the problem is named: where, not what
    for fragment in ("MIIEvQIBADANBgkqhkiG9w0BAQEFAASC", "BEGIN PRIVATE KEY"):
        assert fragment not in output


def test_an_alias_bomb_is_refused_at_the_alias_quickly(project: Callable[..., Path]) -> None:
    # The nine-level "billion laughs" once grew to 1 GiB and was killed; the timeout bounds
    # the run instead of a timing assertion.
    root = _with_job(project, "alias_bomb")
    reconcile = Path(sys.executable).with_name("reconcile")
    done = subprocess.run(
        [str(reconcile), "validate", "--env", "dev", "--root", str(root)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 3, done.stderr
    assert "environments/dev/jobs/alias_bomb.yaml:6:8: error[alias-expansion] $.e[0]" in (
        done.stderr
    )


def test_a_job_file_linked_from_outside_the_project_is_refused(
    project: Callable[..., Path], tmp_path_factory: pytest.TempPathFactory
) -> None:
    root = project("dev")
    outside = tmp_path_factory.mktemp("elsewhere") / "payments.yaml"
    jobs = root / "environments" / "dev" / "jobs"
    outside.write_text((jobs / "payments.yaml").read_text().replace("payments", "linked"))
    (jobs / "linked.yaml").symlink_to(outside)
    (jobs / "dangling.yaml").symlink_to(root / "no-such-file.yaml")
    (jobs / "loop.yaml").symlink_to("loop.yaml")
    os.mkfifo(jobs / "fifo.yaml")  # opening it would wait for a writer forever

    result = run_reconcile("validate", "--env", "dev", "--root", str(root))

    assert result.exit_code == 3
    assert result.stderr.splitlines() == [
        "environments/dev/jobs/dangling.yaml: error[unreadable] $: cannot read file: "
        "No such file or directory",
        "environments/dev/jobs/fifo.yaml: error[unreadable] $: not a regular file",
        "environments/dev/jobs/linked.yaml: error[outside-project] $: resolves outside the "
        "project (a symbolic link out of it?) (hint: keep the file itself in the repository: "
        "the source of truth is what git holds)",
        "environments/dev/jobs/loop.yaml: error[unreadable] $: cannot be resolved (a symbolic "
        "link loop?) (hint: replace it with the file)",
    ]


def test_an_environment_file_linked_from_outside_the_project_is_refused(
    project: Callable[..., Path], tmp_path_factory: pytest.TempPathFactory
) -> None:
    root = project("dev")
    settings = root / "environments" / "dev" / "environment.yaml"
    outside = tmp_path_factory.mktemp("elsewhere") / "environment.yaml"
    outside.write_text(settings.read_text())
    settings.unlink()
    settings.symlink_to(outside)
    result = run_reconcile("validate", "--env", "dev", "--root", str(root))
    assert result.exit_code == 3
    assert "environments/dev/environment.yaml: error[outside-project]" in result.stderr


def test_a_link_inside_the_project_is_followed(project: Callable[..., Path]) -> None:
    root = project("dev")
    jobs = root / "environments" / "dev" / "jobs"
    shared = root / "shared"
    shared.mkdir()
    (jobs / "payments.yaml").rename(shared / "payments.yaml")
    (jobs / "payments.yaml").symlink_to(Path("../../../shared/payments.yaml"))
    result = run_reconcile("validate", "--env", "dev", "--root", str(root))
    assert result.exit_code == 0, result.output


def test_an_oversized_config_is_refused_unread(project: Callable[..., Path]) -> None:
    root = project("dev")
    big = root / "environments" / "dev" / "jobs" / "big.yaml"
    big.write_text("description: " + "x" * (2 << 20) + "\n")
    result = run_reconcile("validate", "--env", "dev", "--root", str(root))
    assert result.exit_code == 3
    assert result.stderr == (
        "environments/dev/jobs/big.yaml: error[too-large] $: file is larger than 1024 KiB "
        "(hint: a config is a few KiB; split or trim it)\n"
    )


def test_misspelt_key_gets_did_you_mean(project: Callable[..., Path]) -> None:
    root = _with_job(project, "unknown_keys")
    result = run_reconcile("validate", "--env", "dev", "--root", str(root), "--output", "json")
    document = json.loads(result.stdout)
    hints = {d["path"]: d["hint"] for d in document["diagnostics"]}
    assert hints["$.targt"] == "did you mean 'target'?"
    assert hints["$.runtime.orchestration.tempral"] == "did you mean 'temporal'?"


def _position(path: Path, key: str) -> str:
    """``line:column`` of the first ``key:`` in a YAML file."""
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if line.strip().startswith(f"{key}:"):
            return f"{number}:{line.index(key) + 1}"
    raise AssertionError(f"no {key}: in {path}")


def test_duplicate_job_names_across_files(project: Callable[..., Path]) -> None:
    root = project("dev")
    jobs = root / "environments" / "dev" / "jobs"
    shutil.copy(jobs / "payments.yaml", jobs / "payments_copy.yaml")
    at = _position(jobs / "payments.yaml", "name")
    result = run_reconcile("validate", "--env", "dev", "--root", str(root))
    assert result.exit_code == 3
    copy, first = "environments/dev/jobs/payments_copy.yaml", "environments/dev/jobs/payments.yaml"
    assert result.stderr.splitlines() == [
        f"{copy}:{at}: error[duplicate-job] $.name: job name 'payments' is also used by "
        f"{first}:{at} (hint: give each job its own job name)",
        f"{copy}:{at}: error[duplicate-schedule-id] $.name: schedule id 'salam-dev-payments' is "
        f"also used by {first}:{at} (hint: give each job its own schedule id)",
        f"{copy}:9:7: error[duplicate-target-table] $.source.tables[0]: job 'payments' writes "
        f"lake table 'bss_raw.payments', which job 'payments' writes too ({first}:9:7) (hint: give "
        "one of the jobs its own target.table_prefix (or the table its own target))",
    ]


def test_duplicate_dag_and_workflow_ids_point_at_their_keys(project: Callable[..., Path]) -> None:
    root = project("dev")
    jobs = root / "environments" / "dev" / "jobs"
    for job, copy in (("invoices", "invoices_again"), ("miniboss_bss", "miniboss_copy")):
        text = (jobs / f"{job}.yaml").read_text()
        (jobs / f"{copy}.yaml").write_text(clone_job(text, job, copy))
    result = run_reconcile("validate", "--env", "dev", "--root", str(root), "-o", "json")
    assert result.exit_code == 3
    found = {
        (d["code"], d["file"], f"{d['line']}:{d['column']}", d["path"], d["summary"])
        for d in json.loads(result.stdout)["diagnostics"]
    }
    dag = _position(jobs / "invoices.yaml", "dag_id")
    workflow = _position(jobs / "miniboss_bss.yaml", "workflow_id")
    assert found == {  # the copies write tables of their own (clone_job), only the ids clash
        (
            "duplicate-dag-id",
            "environments/dev/jobs/invoices_again.yaml",
            _position(jobs / "invoices_again.yaml", "dag_id"),
            "$.runtime.orchestration.external.dag_id",
            f"DAG id 'ingest_invoices' is also used by environments/dev/jobs/invoices.yaml:{dag}",
        ),
        (
            "duplicate-schedule-id",
            "environments/dev/jobs/miniboss_copy.yaml",
            _position(jobs / "miniboss_copy.yaml", "workflow_id"),
            "$.runtime.orchestration.temporal.workflow_id",
            "schedule id 'miniboss_ingest' is also used by "
            f"environments/dev/jobs/miniboss_bss.yaml:{workflow}",
        ),
    }


def test_two_airflow_jobs_cannot_share_a_dag_file(project: Callable[..., Path]) -> None:
    # invoices' DAG file is salam_dev_invoices.py by default; a copy naming it is refused
    root = project("dev")
    jobs = root / "environments" / "dev" / "jobs"
    text = clone_job((jobs / "invoices.yaml").read_text(), "invoices", "invoices_again")
    own = "dag_id: ingest_invoices_again\n      dag_file: salam_dev_invoices.py"
    (jobs / "invoices_again.yaml").write_text(text.replace("dag_id: ingest_invoices", own))
    result = run_reconcile("validate", "--env", "dev", "--root", str(root), "-o", "json")
    assert result.exit_code == 3
    [found] = json.loads(result.stdout)["diagnostics"]
    assert (found["code"], found["path"], found["summary"]) == (
        "duplicate-dag-file",
        "$.runtime.orchestration.external.dag_file",
        "DAG file 'salam_dev_invoices.py' is also used by environments/dev/jobs/invoices.yaml:"
        + _position(jobs / "invoices.yaml", "name"),
    )


def test_a_broken_job_still_claims_its_name(project: Callable[..., Path]) -> None:
    # the second file has a schema error, yet its clash with the first is reported too
    root = project("dev")
    jobs = root / "environments" / "dev" / "jobs"
    text = (jobs / "payments.yaml").read_text()
    (jobs / "payments_copy.yaml").write_text(text.replace("owner: ", "owner: 42 #", 1))
    result = run_reconcile("validate", "--env", "dev", "--root", str(root), "-o", "json")
    codes = sorted(d["code"] for d in json.loads(result.stdout)["diagnostics"])
    assert result.exit_code == 3
    assert codes == [
        "duplicate-job",
        "duplicate-schedule-id",
        "duplicate-target-table",
        "wrong-type",
    ]


def test_unknown_environment_lists_the_known_ones(project: Callable[..., Path]) -> None:
    root = project("dev", "prod")
    result = run_reconcile("validate", "--env", "staging", "--root", str(root))
    assert result.exit_code == 3
    assert "no environment 'staging'" in result.stderr
    assert "known environments: dev, prod" in result.stderr


def test_empty_jobs_directory_is_a_warning(project: Callable[..., Path]) -> None:
    root = project("dev", jobs=False)
    result = run_reconcile("validate", "--env", "dev", "--root", str(root))
    assert result.exit_code == 0
    assert "warning[no-jobs]" in result.stderr
    assert "0 job(s)" in result.stdout


def test_environment_name_must_match_its_directory(project: Callable[..., Path]) -> None:
    root = project("dev")
    settings = root / "environments" / "dev" / "environment.yaml"
    settings.write_text(settings.read_text().replace("environment: dev", "environment: prod"))
    result = run_reconcile("validate", "--env", "dev", "--root", str(root))
    assert result.exit_code == 3
    assert "environment.yaml:3:1: error[name-mismatch]" in result.stderr


def test_an_smtp_user_name_needs_a_password_reference(project: Callable[..., Path]) -> None:
    root = project("dev")
    settings = root / "environments" / "dev" / "environment.yaml"
    settings.write_text(
        settings.read_text() + "smtp:\n  host: mail.example.org\n  username: alerts\n"
    )
    result = run_reconcile("validate", "--env", "dev", "--root", str(root))
    assert result.exit_code == 3
    assert "error[missing-key] $.smtp: 'username' needs 'password_ref'" in result.stderr
