"""The real Debian cron daemon runs what Salam installs in /etc/cron.d, exactly as planned.

A private mount namespace holds ``cron -f`` and an empty /etc/cron.d (see :mod:`daemon`). The
``reconcile`` CLI, run inside it, installs a project whose crontab target is
``/etc/cron.d/salam-crontest`` (cron.d format: each line names the user, here a throw-away one).
Its every-minute job's "spark-submit" is a script that records its argv, working directory and
uid; the job's Spark conf carries ``%`` and ``\\%`` in every combination cron mangles. Cron starts
after the file is written; within 200 s it runs the entry: as that user, in the workdir
(``cd``), under ``flock``, and with exactly the plan's argv.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from ingestion.config.loader import load_environment
from ingestion.plan.environment import render_all
from tests.reconciler.backends.crontab import daemon
from tests.reconciler.backends.crontab.conftest import CronUser

pytestmark = pytest.mark.integration

WAIT_SECONDS = 200  # cron reloads a changed cron.d at one minute tick, runs it at a later one
CRON_D_FILE = "/etc/cron.d/salam-crontest"
RECONCILE = Path(sys.executable).parent / "reconcile"
PERCENTS = r"a\%b 100% % %% \\% \ %Y-%m-%d it's 50%"
RECORDER = """#!/usr/bin/python3
import json, os, sys
runs = os.path.join(os.path.dirname(os.path.abspath(sys.argv[0])), "runs")
record = {"argv": sys.argv[1:], "cwd": os.getcwd(), "uid": os.getuid()}
with open(os.path.join(runs, "%d.json" % os.getpid()), "w") as out:
    json.dump(record, out)
"""


@dataclass
class Installed:
    """A project installed into the namespace's /etc/cron.d, and where its runs land."""

    root: Path
    shared: Path
    user: CronUser
    namespace: daemon.CronNamespace
    plan: dict[str, Any]
    apply_output: str

    def wait_for_run(self) -> dict[str, Any]:
        runs = self.shared / "runs"
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            for record in sorted(runs.glob("*.json")):
                text = record.read_text()
                if text.endswith("}"):
                    return dict(json.loads(text))
            time.sleep(1)
        output = (self.shared / "marker.log").read_text(errors="replace")
        listing = self.namespace.run("ls", "-la", "--time-style=full-iso", "/etc/cron.d").stdout
        pytest.fail(
            f"cron ran nothing within {WAIT_SECONDS} s; the job's log: {output[-2000:]}; "
            f"cron's log: {self.namespace.log()[-2000:]}; "
            f"/etc/cron.d: {listing}"
        )


def write_project(root: Path, shared: Path, user: str) -> None:
    env = root / "environments" / "dev"
    (env / "jobs").mkdir(parents=True)
    settings = {
        "environment": "dev",
        "workdir": str(shared / "work"),
        "crontab": {
            "target": {"file": CRON_D_FILE, "user": user},
            "host_timezone": "UTC",
            "lock_dir": str(shared / "locks"),
        },
        "spark": {"submit": str(shared / "spark-submit"), "master": "local[1]"},
    }
    (env / "environment.yaml").write_text(yaml.safe_dump(settings))
    job = {
        "name": "marker",
        "owner": "bss-data-platform",
        "source": {
            "jdbc_url": "jdbc:sqlite:/nonexistent.db",
            "driver": "org.sqlite.JDBC",
            "tables": [{"name": "t", "primary_key": ["id"]}],
        },
        "load": {"mode": "full"},
        "target": {"namespace": "raw"},
        "spark": {"conf": {"salam.test.percents": PERCENTS}},
        "runtime": {
            "orchestration": {
                "mode": "plain_cron",
                "cron": {"expression": "* * * * *", "log_file": str(shared / "marker.log")},
            }
        },
    }
    (env / "jobs" / "marker.yaml").write_text(yaml.safe_dump(job))


def shared_directory(user: CronUser, recorder_text: str = RECORDER) -> Path:
    """A directory the throw-away user can reach (pytest's tmp_path is root's alone), with the
    recording "spark-submit" (``recorder_text``)."""
    shared = Path(tempfile.mkdtemp(prefix="salam-crond-", dir="/tmp"))
    shared.chmod(0o755)
    uid, gid = user.ids()
    for name in ("work", "runs"):
        (shared / name).mkdir()
        os.chown(shared / name, uid, gid)
    recorder = shared / "spark-submit"
    recorder.write_text(recorder_text)
    recorder.chmod(stat.S_IRWXU | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)
    (shared / "marker.log").touch()
    os.chown(shared / "marker.log", uid, gid)
    return shared


@pytest.fixture(scope="module")
def installed(
    cron_user_module: CronUser, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Installed]:
    if reason := daemon.missing():
        pytest.skip(reason)
    root = tmp_path_factory.mktemp("crond-project")
    shared = shared_directory(cron_user_module)
    write_project(root, shared, cron_user_module.name)
    plan = render_all(load_environment(root, "dev"), with_git=False)["marker"]
    namespace = daemon.CronNamespace(tmp_path_factory.mktemp("crond-namespace"))
    namespace.start()
    try:
        done = namespace.run(RECONCILE, "--env", "dev", "--root", root, "--yes")
        assert done.returncode == 0, done.stdout + done.stderr
        namespace.start_cron()  # after the write: see daemon's docstring
        yield Installed(root, shared, cron_user_module, namespace, plan, done.stdout)
    finally:
        namespace.stop()
        shutil.rmtree(shared, ignore_errors=True)


def test_the_cron_d_file_names_the_user_and_reads_back_in_sync(installed: Installed) -> None:
    text = installed.namespace.run("cat", CRON_D_FILE).stdout
    assert f"\n* * * * * {installed.user.name} cd {installed.shared}/work && flock -n " in text
    assert installed.plan["crontab_line"] in text
    again = installed.namespace.run(
        RECONCILE, "--env", "dev", "--root", installed.root, "--dry-run", "--exit-code"
    )
    assert again.returncode == 0, again.stdout + again.stderr
    assert not Path(CRON_D_FILE).exists()  # the host's /etc/cron.d was never touched


def test_cron_runs_the_entry_as_its_user_in_the_workdir_with_the_plans_argv(
    installed: Installed,
) -> None:
    record = installed.wait_for_run()
    assert record["uid"] == installed.user.ids()[0]
    assert record["cwd"] == str(installed.shared / "work")
    assert record["argv"] == installed.plan["execution_command"][1:]
    assert f"salam.test.percents={PERCENTS}" in record["argv"]
    assert (installed.shared / "locks" / "dev-marker.lock").exists()
