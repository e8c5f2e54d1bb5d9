"""Orchestration plans: golden plans for every mode, byte stability, digests, and no secrets."""

from __future__ import annotations

import hashlib
import json
import random
import subprocess
import sys
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingestion.config import loader
from ingestion.plan import canonical, render
from ingestion.plan import environment as plans
from tests.conftest import ROOT, TESTDATA, assert_golden

GOLDEN = TESTDATA / "plans"
ENVIRONMENTS = ("dev", "uat", "prod")


def _env(name: str) -> loader.Environment:
    return loader.load_environment(ROOT, name)


def test_every_mode_is_used_across_environments() -> None:
    modes = {job.mode for env in ENVIRONMENTS for job in _env(env).jobs}
    assert modes == {
        "plain_cron",
        "external_scheduler",
        "airflow",
        "informatica",
        "temporal",
        "kubernetes",
    }
    assert all(len(_env(env).jobs) >= 5 for env in ENVIRONMENTS)


@pytest.mark.parametrize("job", [j.name for j in loader.load_environment(ROOT, "prod").jobs])
def test_golden_plan(job: str) -> None:
    environment = _env("prod")
    plan = render.render(environment.job(job), environment)
    assert_golden(canonical.dumps(plan), GOLDEN / f"prod-{job}.json")


def test_plan_cli_matches_seed_spelling_and_is_byte_identical() -> None:
    config = "environments/prod/jobs/miniboss_bss.yaml"
    outputs = [
        subprocess.run(
            [sys.executable, "-m", "ingestion", "--config", config, "--dump-orchestration-plan"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        ).stdout,
        subprocess.run(
            [sys.executable, "-m", "ingestion", "plan", "--config", config],
            cwd=ROOT,
            capture_output=True,
            check=True,
        ).stdout,
    ]
    assert outputs[0] == outputs[1]
    plan = json.loads(outputs[0])
    assert plan["temporal"]["namespace"] == "ingestion-prod"
    assert plan["bookkeeping"]["digest"] == canonical.digest(plan)
    assert "git_revision" in plan["bookkeeping"] and "git_dirty" in plan["bookkeeping"]


def test_temporal_block_carries_the_workflow_id_as_the_seed_shows_it() -> None:
    environment = _env("prod")
    plans_by_job = plans.render_all(environment, with_git=False)
    seed_style = plans_by_job["miniboss_bss"]  # the config sets workflow_id: miniboss_ingest
    assert seed_style["temporal"]["workflow_id"] == "miniboss_ingest" == seed_style["schedule_id"]
    assert set(seed_style["temporal"]) >= {"namespace", "task_queue", "workflow", "workflow_id"}
    derived = plans_by_job["usage_records"]  # no workflow_id in the config
    assert derived["temporal"]["workflow_id"] == "salam-prod-usage_records"


def test_plain_cron_plan_translates_kolkata_to_the_utc_host() -> None:
    environment = _env("dev")
    plan = render.render(environment.job("subscriptions"), environment)
    assert plan["schedule"] == {"cron": "0 * * * *", "timezone": "Asia/Kolkata"}
    assert plan["crontab_line"].startswith(
        "30 * * * * cd . && flock -n .salam/locks/dev-subscriptions.lock "
    )
    assert plan["crontab_line"].endswith(">> /var/log/salam_ingest.log 2>&1")


def test_digest_ignores_git_fields_but_not_content() -> None:
    environment = _env("dev")
    job = environment.job("payments")
    plan = render.render(job, environment)
    stamped = json.loads(json.dumps(plan))
    stamped["bookkeeping"].update(git_revision="0" * 40, git_dirty=True)
    assert canonical.digest(stamped) == plan["bookkeeping"]["digest"]
    stamped["schedule"]["cron"] = "31 3 * * *"
    assert canonical.digest(stamped) != plan["bookkeeping"]["digest"]


def _shuffled(value: Any, rng: random.Random) -> Any:
    if isinstance(value, dict):
        items = list(value.items())
        rng.shuffle(items)
        return {k: _shuffled(v, rng) for k, v in items}
    if isinstance(value, list):
        return [_shuffled(v, rng) for v in value]
    return value


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**32 - 1))
def test_rendering_is_stable_under_key_order(seed: int) -> None:
    environment = _env("uat")
    rng = random.Random(seed)
    for job in environment.jobs:
        reordered = loader.JobConfig(
            job.environment, job.name, job.path, job.sha256, _shuffled(dict(job.data), rng)
        )
        assert canonical.dumps(render.render(reordered, environment)) == canonical.dumps(
            render.render(job, environment)
        )


def _strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [value] if isinstance(value, str) else []


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_no_plan_contains_a_secret_value(env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "not-in-any-plan-7f3a"
    monkeypatch.setenv("SALAM_ALERT_WEBHOOK", f"https://hooks.example.com/{secret}")
    monkeypatch.setenv("BSS_JDBC_PASSWORD", secret)
    for plan in plans.render_all(_env(env)).values():
        text = canonical.dumps(plan)
        assert secret not in text
        assert plan["alerts"]["webhook"] in (None, "env:SALAM_ALERT_WEBHOOK")
        assert not any("@" in s and s.startswith("jdbc:") for s in _strings(plan))


def test_environments_differ_only_where_the_infra_spec_says() -> None:
    dev, prod = _env("dev"), _env("prod")
    assert dev.settings["temporal"]["namespace"] == "ingestion-dev"
    assert prod.settings["temporal"]["namespace"] == "ingestion-prod"
    for job in prod.jobs:
        dev_job = dev.job(job.name)
        assert render.render(dev_job, dev)["schedule"] == render.render(job, prod)["schedule"]


def test_spark_submit_plans_carry_their_conf_and_locked_files_checksums() -> None:
    environment = _env("prod")
    locked = loader.spark_lock(environment).checksums
    for job, plan in plans.render_all(environment, with_git=False).items():
        if environment.job(job).mode == "kubernetes":  # the image's files, not the plan's
            assert "spark" not in plan
            continue
        command = plan["execution_command"]
        conf = dict(
            command[i + 1].split("=", 1) for i, arg in enumerate(command) if arg == "--conf"
        )
        assert plan["spark"]["conf_sha256"] == hashlib.sha256(canonical.compact(conf)).hexdigest()
        assert plan["spark"]["files"] == [
            {"path": path, "sha256": locked[path]} for path in environment.settings["spark"]["jars"]
        ]


def test_py_files_are_passed_and_unlocked_files_have_no_checksum() -> None:
    environment = loader.load_environment(ROOT, "dev", ["spark.py_files=[deps/helpers.zip]"])
    plan = render.render(environment.job("payments"), environment)
    command = plan["execution_command"]
    assert command[command.index("--py-files") + 1] == "deps/helpers.zip"
    assert command.index("--py-files") < command.index(render.SPARK_APP)
    assert plan["spark"]["files"][-1] == {"path": "deps/helpers.zip", "sha256": None}


def test_a_warm_engine_makes_the_job_its_client_instead_of_spark_submit() -> None:
    environment = loader.load_environment(ROOT, "dev", ["spark.connect=sc://127.0.0.1:15002"])
    plan = render.render(environment.job("payments"), environment)
    assert plan["execution_command"] == [
        "ingest",
        "run",
        "--config",
        environment.job("payments").path,
    ]
    assert "spark" not in plan  # no spark-submit conf or files to checksum: the engine has them


def test_lazy_plans_are_rendered_once_each_when_read(monkeypatch: pytest.MonkeyPatch) -> None:
    environment = _env("dev")
    eager = plans.render_all(environment, with_git=False)
    rendered: list[str] = []
    real = render.render

    def counting(job: loader.JobConfig, *args: Any) -> dict[str, Any]:
        rendered.append(job.name)
        return real(job, *args)

    monkeypatch.setattr(render, "render", counting)
    lazy = plans.render_lazily(environment, with_git=False, only={"payments", "invoices"})
    assert sorted(lazy) == ["invoices", "payments"] and not rendered
    assert "payments" in lazy and "subscriptions" not in lazy and not rendered
    assert lazy["payments"] == lazy["payments"] == eager["payments"]
    assert rendered == ["payments"]
    assert dict(lazy) == {name: eager[name] for name in ("invoices", "payments")}
    assert rendered == ["payments", "invoices"]
