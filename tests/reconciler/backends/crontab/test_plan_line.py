"""The line installed in the crontab is the plan's ``crontab_line``: one structured entry,
rendered once, for the plan and for the backend alike.

Real ``crontab`` on a throw-away user, through the engine, for the shipped prod environment
(absolute ``workdir`` and ``lock_dir``: byte-identical) and dev (relative ones: the same line
with the project root made absolute, since cron starts commands in the user's home).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from ingestion.config import loader
from ingestion.plan import environment as plans
from reconciler import engine
from reconciler.model import ApplyStatus
from tests.reconciler.backends.crontab.conftest import CronUser

pytestmark = pytest.mark.integration

TARGET = re.compile(r"^  target:\n(    \S.*\n)+", re.MULTILINE)


def switch_to_user(root: Path, env: str, user: str) -> None:
    settings = root / "environments" / env / "environment.yaml"
    text, count = TARGET.subn(f"  target:\n    user: {user}\n", settings.read_text(), count=1)
    assert count == 1
    settings.write_text(text)


def installed_lines(root: Path, env: str, user: CronUser) -> list[str]:
    options = engine.ReconcileOptions(
        root=root,
        env=env,
        backends=("crontab",),
        allow_dirty=True,
        overrides=("kubernetes.lease=null",),  # prod's apply lease needs its cluster
    )
    with engine.prepare(options, for_apply=True) as current:
        assert engine.apply(current).status is ApplyStatus.APPLIED
    return user.content().decode().splitlines()


def cron_plans(root: Path, env: str) -> dict[str, str]:
    rendered = plans.render_all(loader.load_environment(root, env, []), with_git=False)
    return {job: p["crontab_line"] for job, p in rendered.items() if p["mode"] == "plain_cron"}


def test_prod_installs_exactly_the_plans_lines(
    project: Callable[..., Path], cron_user: CronUser
) -> None:
    root = project("prod")
    switch_to_user(root, "prod", cron_user.name)
    lines = cron_plans(root, "prod")
    assert lines and all(" cd /srv/salam && flock -n /var/lock/salam/" in v for v in lines.values())
    installed = installed_lines(root, "prod", cron_user)
    for job, line in lines.items():
        assert line in installed, job


def test_a_relative_workdir_is_the_project_root_once_installed(
    project: Callable[..., Path], cron_user: CronUser
) -> None:
    root = project("dev")
    switch_to_user(root, "dev", cron_user.name)
    lines = cron_plans(root, "dev")
    installed = installed_lines(root, "dev", cron_user)
    absolute = str(root.resolve())
    for job, line in lines.items():
        assert " cd . && flock -n .salam/locks/" in line, job
        expected = line.replace(" cd . && ", f" cd {absolute} && ").replace(
            " .salam/locks/", f" {absolute}/.salam/locks/"
        )
        assert expected in installed, job
