"""The engine and CLI on a real user's crontab: the whole loop, a killed apply, concurrent applies.

The project is a throw-away copy of ``environments/dev`` whose crontab target is switched from
the file to the test user's crontab.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from reconciler import engine
from tests.conftest import run_reconcile
from tests.reconciler.backends.crontab.conftest import CronUser, fixture_bytes, without_block

pytestmark = pytest.mark.integration

DEV_FILE_TARGET = "    file: .salam/cron/salam-dev.cron\n"
BOUND_SECONDS = 60

KILLED = """
import os, signal, sys
from pathlib import Path
from reconciler import engine
from reconciler.backends.crontab import target

real_write = target.UserTarget.write
def write(self, text):
    if sys.argv[2] == "after":
        real_write(self, text)
    os.kill(os.getpid(), signal.SIGKILL)
target.UserTarget.write = write
options = engine.ReconcileOptions(root=Path(sys.argv[1]), env="dev", backends=("crontab",))
with engine.prepare(options, for_apply=True) as current:
    engine.apply(current)
"""

CONCURRENT = """
import json, sys, time
from pathlib import Path
from reconciler import engine, lock
from reconciler.backends.crontab import backend, target

root, role, flags = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])

def wait_for(name, seconds):
    end = time.monotonic() + seconds
    while not (flags / name).exists() and time.monotonic() < end:
        time.sleep(0.05)
    return (flags / name).exists()

if role == "a":
    real_write = target.UserTarget.write
    def write(self, text):
        (flags / "a-in-write").touch()
        assert wait_for("b-at-lock", 30), "b never reached the lock"
        wait_for("b-has-read", 3)  # only a broken lock lets b read now
        real_write(self, text)
    target.UserTarget.write = write
else:
    real_hold, real_read = lock.hold, backend.CrontabBackend.read
    def hold(*args, **kwargs):
        (flags / "b-at-lock").touch()
        return real_hold(*args, **kwargs)
    def read(self):
        (flags / "b-has-read").touch()
        return real_read(self)
    lock.hold = hold
    backend.CrontabBackend.read = read
options = engine.ReconcileOptions(root=root, env="dev", backends=("crontab",))
with engine.prepare(options, for_apply=True) as current:
    pending = current.change_set.pending()
    status = engine.apply(current).status if pending else "in-sync"
print(json.dumps({"pending": len(pending), "status": status}))
"""


@pytest.fixture
def user_project(project: Callable[..., Path], cron_user: CronUser) -> Path:
    """A copy of the dev environment whose crontab target is the test user."""
    root = project("dev")
    settings = root / "environments" / "dev" / "environment.yaml"
    text = settings.read_text()
    assert DEV_FILE_TARGET in text
    settings.write_text(text.replace(DEV_FILE_TARGET, f"    user: {cron_user.name}\n"))
    return root


def options(root: Path, **extra: object) -> engine.ReconcileOptions:
    return engine.ReconcileOptions(root=root, env="dev", backends=("crontab",), **extra)  # type: ignore[arg-type]


def pending(root: Path) -> int:
    with engine.prepare(options(root)) as current:
        return len(current.change_set.pending())


def reconcile(root: Path, *args: str) -> tuple[int, str]:
    result = run_reconcile("--env", "dev", "--backend", "crontab", "--root", str(root), *args)
    return result.exit_code, result.output


def test_cli_dry_run_apply_idempotent_and_drift_corrected(
    user_project: Path, cron_user: CronUser
) -> None:
    original = fixture_bytes("plain.crontab")
    cron_user.install(original)
    code, output = reconcile(user_project, "--dry-run")
    assert code == 0, output
    assert f"+ crontab/user:{cron_user.name}/subscriptions" in output
    assert cron_user.content() == original
    code, output = reconcile(user_project)
    assert code == 0, output
    installed = cron_user.content()
    assert without_block(installed) == original
    assert b"# salam job=subscriptions digest=" in installed
    code, output = reconcile(user_project, "--dry-run", "--exit-code")
    assert code == 0 and "No changes" in output, output
    cron_user.install(installed.replace(b"\n30 * * * * cd ", b"\n45 * * * * cd "))
    code, output = reconcile(user_project, "--dry-run", "--exit-code")
    assert code == 4, output
    assert '~ schedule: "45 * * * *" -> "30 * * * *"' in output
    code, output = reconcile(user_project)
    assert code == 0, output
    assert cron_user.content() == installed


def test_prune_needs_allow_empty_to_remove_every_entry(
    user_project: Path, cron_user: CronUser
) -> None:
    original = fixture_bytes("other_blocks.crontab")
    cron_user.install(original)
    assert reconcile(user_project)[0] == 0
    installed = cron_user.content()
    (user_project / "environments" / "dev" / "jobs" / "subscriptions.yaml").unlink()
    code, output = reconcile(user_project, "--no-prune")
    assert code == 0, output
    assert cron_user.content() == installed
    code, output = reconcile(user_project)
    assert code != 0 and "--allow-empty" in output, output
    assert cron_user.content() == installed
    code, output = reconcile(user_project, "--allow-empty")
    assert code == 0, output
    assert cron_user.content() == original


@pytest.mark.parametrize("moment", ["before", "after"])
def test_a_killed_apply_is_followed_by_a_converging_run(
    user_project: Path, cron_user: CronUser, moment: str
) -> None:
    original = fixture_bytes("crlf.crontab")
    cron_user.install(original)
    done = subprocess.run(
        [sys.executable, "-c", KILLED, str(user_project), moment],
        capture_output=True,
        timeout=BOUND_SECONDS,
        check=False,
    )
    assert done.returncode == -9, done.stderr
    journals = list((user_project / ".salam" / "state" / "dev" / "journal").glob("*.json"))
    assert [json.loads(p.read_text())["status"] for p in journals] == ["started"]
    assert (cron_user.content() == original) is (moment == "before")
    with engine.prepare(options(user_project), for_apply=True) as current:
        assert any("interrupted" in note for note in current.notes)
        if current.change_set.pending():
            assert engine.apply(current).status == "applied"
    assert pending(user_project) == 0
    assert without_block(cron_user.content()) == original


def test_concurrent_applies_serialise(
    user_project: Path, cron_user: CronUser, tmp_path: Path
) -> None:
    flags = tmp_path / "flags"
    flags.mkdir()
    argv = [sys.executable, "-c", CONCURRENT, str(user_project)]
    first = subprocess.Popen(
        [*argv, "a", str(flags)], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + BOUND_SECONDS
        while not (flags / "a-in-write").exists() and first.poll() is None:
            assert time.monotonic() < deadline, "the first apply never reached its write"
            time.sleep(0.05)
        second = subprocess.run(
            [*argv, "b", str(flags)], capture_output=True, timeout=BOUND_SECONDS, check=False
        )
        out_a, err_a = first.communicate(timeout=BOUND_SECONDS)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert first.returncode == 0, err_a
    assert second.returncode == 0, second.stderr
    assert json.loads(out_a) == {"pending": 1, "status": "applied"}
    assert json.loads(second.stdout) == {"pending": 0, "status": "in-sync"}
    assert cron_user.content().count(b"# salam job=subscriptions ") == 1
