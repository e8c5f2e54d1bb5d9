"""``--set`` on a real Temporal dev server: ``KEY=null`` removes a setting (prod's TLS, for a
local server), and ``reconcile apply FILE --set`` applies the saved change set's own overrides,
then its own — refusing the change set as stale when that changes a plan."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import Result

from tests.conftest import run_reconcile
from tests.reconciler.backends.temporal.conftest import Project, temporal_server  # noqa: F401
from tests.reconciler.backends.temporal.server import TemporalServer, free_port, write_job

pytestmark = pytest.mark.integration
_COUNTER = itertools.count()


@pytest.fixture
def server_project(tmp_path: Path, temporal_server: TemporalServer) -> Project:  # noqa: F811
    """A project whose dev environment has its own namespace on the test server."""
    namespace = f"salam-apply-set-{next(_COUNTER)}"
    temporal_server.create_namespace(namespace)
    made = Project(tmp_path / "project", temporal_server, namespace)
    made.add_environment("dev")
    return made


def _reconcile(project: Project, *args: str) -> Result:
    return run_reconcile(*args, "--root", str(project.root))


def _schedules(project: Project) -> list[str]:
    with project.backend() as backend:
        return sorted(resource.key.name for resource in backend.read())


def _save(project: Project, saved: Path) -> None:
    result = _reconcile(
        project,
        "--env",
        "dev",
        "--dry-run",
        "--out",
        str(saved),
        "--set",
        f"temporal.address={project.server.address}",
    )
    assert result.exit_code == 0, result.output


def test_apply_uses_the_saved_overrides_then_its_own_set(
    server_project: Project, tmp_path: Path
) -> None:
    project = server_project
    write_job(project.root, "dev", "orders")
    saved = tmp_path / "changes.json"
    _save(project, saved)

    closed = f"127.0.0.1:{free_port()}"
    refused = _reconcile(project, "apply", str(saved), "--set", f"temporal.address={closed}")
    assert refused.exit_code == 1
    assert f"cannot connect to Temporal at {closed}" in refused.stderr
    assert _schedules(project) == []

    applied = _reconcile(project, "apply", str(saved))  # the saved temporal.address
    assert applied.exit_code == 0, applied.output
    assert _schedules(project) == ["salam-dev-orders"]


def test_apply_refuses_a_set_that_changes_the_plans(
    server_project: Project, tmp_path: Path
) -> None:
    project = server_project
    write_job(project.root, "dev", "orders")
    saved = tmp_path / "changes.json"
    _save(project, saved)

    result = _reconcile(project, "apply", str(saved), "--set", "spark.master=yarn")
    assert result.exit_code == 1
    assert (
        "stale change set: the plans changed (the configs, or the --set given to apply)"
        in result.stderr
    )
    assert _schedules(project) == []


def test_set_null_turns_prods_tls_off_for_a_local_server(
    project: Callable[..., Path],
    temporal_server: TemporalServer,  # noqa: F811
) -> None:
    root = project("prod")
    temporal_server.create_namespace("ingestion-prod")
    local = ("--set", f"temporal.address={temporal_server.address}")
    dry_run = ("--env", "prod", "--dry-run", "--backend", "temporal", "--root", str(root), *local)

    with_tls = run_reconcile(*dry_run)
    assert with_tls.exit_code == 1
    assert "Temporal TLS settings" in with_tls.stderr  # the prod client certificate is not here

    without_tls = run_reconcile(*dry_run, "--set", "temporal.tls=null")
    assert without_tls.exit_code == 0, without_tls.output
    assert "+ temporal/ingestion-prod/miniboss_ingest" in without_tls.stdout
