"""Shared test fixtures: the project root, throw-away project copies, and the CLI runner.

Tests that need servers (Temporal, PostgreSQL, cron, Spark) keep their fixtures in the
conftest.py of their own folder.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

ROOT = Path(__file__).resolve().parent.parent
TESTDATA = ROOT / "tests" / "testdata"
UPDATE_GOLDEN = os.environ.get("SALAM_UPDATE_GOLDEN") == "1"


@pytest.fixture
def project(tmp_path: Path) -> Callable[..., Path]:
    """Make a project under tmp_path holding copies of the given environments (default: dev):
    environment.yaml, the Spark lock and (with ``jobs``) the job configs."""

    def make(*envs: str, jobs: bool = True) -> Path:
        for env in envs or ("dev",):
            source = ROOT / "environments" / env
            target = tmp_path / "environments" / env
            target.mkdir(parents=True)
            shutil.copy(source / "environment.yaml", target / "environment.yaml")
            shutil.copy(source / "spark.lock", target / "spark.lock")
            if jobs:
                shutil.copytree(source / "jobs", target / "jobs")
            else:
                (target / "jobs").mkdir()
        return tmp_path

    return make


def own_table_prefix(job: str) -> str:
    """The ``target.table_prefix`` a test's copy of a job gets, so that no two jobs of one
    environment write the same lake table (``validate``: ``duplicate-target-table``)."""
    return f"{job}_"


def clone_job(text: str, name: str, clone: str) -> str:
    """The YAML of job ``name`` (``text``) as job ``clone``: renamed, and with its own
    :func:`own_table_prefix` as the first key of ``target:`` (one line more there, none
    elsewhere)."""
    own_name = rf"^name: {re.escape(name)}$"
    renamed, count = re.subn(own_name, f"name: {clone}", text, count=1, flags=re.M)
    assert count == 1, f"no top-level 'name: {name}' to rename"
    prefix = f"target:\n  table_prefix: {own_table_prefix(clone)}\n"
    prefixed, count = re.subn(r"^target:\n", prefix, renamed, count=1, flags=re.M)
    assert count == 1 and "table_prefix" not in renamed, f"{name}: no target: block to prefix"
    return prefixed


def with_second_airflow_job(root: Path) -> Path:
    """``root``'s dev with ``invoices_eu`` beside ``invoices``: a second airflow job, so that
    one DAG file is not all of them."""
    jobs = root / "environments" / "dev" / "jobs"
    text = clone_job((jobs / "invoices.yaml").read_text(), "invoices", "invoices_eu")
    (jobs / "invoices_eu.yaml").write_text(
        text.replace("dag_id: ingest_invoices", "dag_id: ingest_invoices_eu")
    )
    return root


def run_reconcile(*args: str) -> Result:
    """Run the ``reconcile`` CLI in-process."""
    from reconciler.cli.app import app

    return CliRunner().invoke(app, list(args))


def assert_golden(actual: str, golden: Path) -> None:
    """Compare with a golden file; SALAM_UPDATE_GOLDEN=1 rewrites it instead."""
    if UPDATE_GOLDEN or not golden.exists():
        if not UPDATE_GOLDEN:
            pytest.fail(
                f"golden file {golden} is missing; run with SALAM_UPDATE_GOLDEN=1 to create it"
            )
        golden.write_text(actual, encoding="utf-8")
    assert actual == golden.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def promtool() -> Path:
    """promtool from Debian's prometheus package (fetched once by scripts/setup.sh promtool)."""
    from tests import promtool as tool

    return tool.ensure()
