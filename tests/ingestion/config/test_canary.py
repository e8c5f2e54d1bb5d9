"""The generated canary job: off unless ``canary:`` is set; then one job ``canary`` in the
environment's default mode, loaded like a job file (by path too, as its schedule runs it),
rendered to a plan, and a job file of the same name (of the canary's or of the maintenance
job's) is refused as a duplicate."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from ingestion.config import canary, loader, maintenance
from ingestion.plan import render


def test_no_canary_unless_set(project: Callable[..., Path]) -> None:
    root = project("dev")
    assert canary.NAME not in [job.name for job in loader.load_environment(root, "dev").jobs]


@pytest.mark.parametrize(
    ("settings", "mode", "cron"),
    [
        (["canary.grace=2h"], "temporal", "0 6 * * *"),  # dev has a Temporal cluster
        (["canary.mode=plain_cron", "canary.cron=30 5 * * *"], "plain_cron", "30 5 * * *"),
    ],
)
def test_the_canary_is_a_job_of_the_environment(
    project: Callable[..., Path], settings: list[str], mode: str, cron: str
) -> None:
    root = project("dev")
    environment = loader.load_environment(root, "dev", settings)
    job = environment.job(canary.NAME)
    assert (job.mode.value, job.path) == (mode, "environments/dev/jobs/canary.yaml")
    assert job.data["owner"] == "bss-data-platform"  # defaults merged under it
    plan = render.render(job, environment)
    assert plan["schedule"]["cron"] == cron
    assert plan["execution_command"][-2:] == ["--config", "environments/dev/jobs/canary.yaml"]
    _, by_path = loader.load_one_job(root / job.path, settings)
    assert by_path == job


@pytest.mark.parametrize(
    ("name", "setting"),
    [(canary.NAME, "canary.mode=temporal"), (maintenance.NAME, "maintenance.grace=1d")],
)
def test_a_job_file_named_like_a_generated_job_clashes_with_it(
    project: Callable[..., Path], name: str, setting: str
) -> None:
    root = project("dev")
    jobs = root / "environments/dev/jobs"
    (jobs / f"{name}.yaml").write_text(
        (jobs / "subscriptions.yaml").read_text().replace("name: subscriptions", f"name: {name}")
    )
    with pytest.raises(loader.InvalidEnvironment) as raised:
        loader.load_environment(root, "dev", [setting])
    rendered = "\n".join(d.render() for d in raised.value.diagnostics)
    assert f"'{name}'" in rendered and "duplicate" in rendered.lower()
