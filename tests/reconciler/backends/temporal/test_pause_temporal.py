"""``reconcile pause`` / ``resume`` on a real Temporal dev server: the schedule is paused live
with a note saying who and why, ``reconcile drift`` reports it as an operator's pause with that
note, a later apply keeps it, ``history`` shows it; resume puts it back in sync. A job that
cannot be paused, an unknown job, nothing live and a config that says ``paused: false`` are
refused with what to do; prod asks for confirmation (or ``--yes``)."""

from __future__ import annotations

import getpass
import json
from pathlib import Path

import pytest

from reconciler import audit
from tests.conftest import run_reconcile
from tests.reconciler.backends.temporal.conftest import Project
from tests.reconciler.backends.temporal.server import write_job

pytestmark = pytest.mark.integration


def cli(project: Project, *args: str) -> tuple[int, str]:
    argv = [
        *args,
        "--root",
        str(project.root),
        "--set",
        f"temporal.address={project.server.address}",
    ]
    result = run_reconcile(*argv)
    return result.exit_code, result.output


def live(project: Project, env: str = "dev") -> dict[str, object]:
    with project.backend(env) as backend:
        (resource,) = backend.read()
    return {"paused": resource.paused, "note": resource.observed["pause_note"]}


def audited(project: Project) -> list[dict[str, object]]:
    return audit.history(project.root / ".salam/state/dev")


@pytest.fixture
def applied(project: Project) -> Project:
    write_job(project.root, "dev", "orders")
    code, said = cli(project, "--env", "dev")
    assert code == 0, said
    return project


def test_pause_is_an_operators_pause_kept_by_applies_then_resume(applied: Project) -> None:
    code, said = cli(applied, "pause", "--env", "dev", "--job", "orders", "--note", "db upgrade")
    assert code == 0, said
    note = f"paused with `reconcile pause` by {getpass.getuser()}: db upgrade"
    assert note in said and "reconcile resume --env dev --job orders" in said
    assert live(applied) == {"paused": True, "note": note}

    code, said = cli(applied, "drift", "--env", "dev", "--output", "json")
    assert code == 4, said
    [finding] = json.loads(said)["findings"]
    assert (finding["kind"], finding["job"], finding["note"]) == ("paused", "orders", note)
    code, said = cli(applied, "drift", "--env", "dev")
    assert f"note: {note}" in said

    write_job(applied.root, "dev", "orders", cron="45 * * * *")  # a config change to apply
    code, said = cli(applied, "--env", "dev")
    assert code == 0, said
    assert live(applied) == {"paused": True, "note": note}  # kept by the apply

    code, said = cli(applied, "pause", "--env", "dev", "--job", "orders")
    assert (code, "orders is already paused: nothing to do") == (0, said.strip())
    code, said = cli(applied, "history", "--env", "dev")
    assert code == 0 and " pause" in said
    assert [e["action"] for e in audited(applied)] == [None, "pause", None]

    code, said = cli(applied, "resume", "--env", "dev", "--job", "orders")
    assert code == 0, said
    assert live(applied)["paused"] is False
    code, said = cli(applied, "drift", "--env", "dev")
    assert code == 0, said
    code, said = cli(applied, "resume", "--env", "dev", "--job", "orders")
    assert (code, said.strip()) == (0, "orders is not paused: nothing to do")
    assert [e["action"] for e in audited(applied)][-1] == "resume"


def test_a_config_pause_stays_and_a_config_unpause_refuses(project: Project) -> None:
    write_job(project.root, "dev", "orders", paused=True)
    assert cli(project, "--env", "dev")[0] == 0
    code, said = cli(project, "resume", "--env", "dev", "--job", "orders")
    assert code == 0 and "stays paused" in said and "schedule.paused: true" in said

    write_job(project.root, "dev", "orders", paused=False)
    assert cli(project, "--env", "dev")[0] == 0
    code, said = cli(project, "pause", "--env", "dev", "--job", "orders")
    assert code == 1 and "the next apply would resume it" in said
    assert live(project)["paused"] is False


def test_unknown_job_not_applied_and_crontab_jobs_are_refused(project: Project) -> None:
    write_job(project.root, "dev", "orders")
    code, said = cli(project, "pause", "--env", "dev", "--job", "nope")
    assert code == 2 and "no job nope in environment 'dev'" in said
    code, said = cli(project, "pause", "--env", "dev", "--job", "orders")
    assert code == 1 and "not applied yet" in said and "reconcile --env dev --job orders" in said

    _on_crontab(project, "customers")
    code, said = cli(project, "pause", "--env", "dev", "--job", "customers")
    assert code == 1, said
    assert "runs on crontab, which cannot hold a schedule paused" in said
    assert "schedule.paused: true" in said
    assert audited(project) == []


def _on_crontab(project: Project, job: str) -> Path:
    settings_path = project.root / "environments/dev/environment.yaml"
    settings = json.loads(settings_path.read_text())
    settings["crontab"] = {"target": {"file": "cron/salam-dev.cron"}, "host_timezone": "UTC"}
    settings_path.write_text(json.dumps(settings))
    path = write_job(project.root, "dev", job)
    config = json.loads(path.read_text())
    config["runtime"]["orchestration"] = {
        "mode": "plain_cron",
        "cron": {"expression": "0 3 * * *", "timezone": "UTC"},
    }
    path.write_text(json.dumps(config))
    return path


def test_prod_asks_for_confirmation_or_yes(project: Project) -> None:
    project.add_environment("prod")
    write_job(project.root, "prod", "orders")
    assert cli(project, "--env", "prod", "--yes")[0] == 0
    code, said = cli(project, "pause", "--env", "prod", "--job", "orders")
    assert code == 1 and "refusing to apply 1 change(s) to prod without confirmation" in said
    assert live(project, "prod")["paused"] is False
    code, said = cli(project, "pause", "--env", "prod", "--job", "orders", "--yes")
    assert code == 0, said
    assert live(project, "prod")["paused"] is True
