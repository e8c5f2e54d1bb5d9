"""Fixtures for the crontab backend: environments, plans, a real throw-away cron user.

The user-crontab tests use the real ``crontab`` command (Debian ``cron``) as root on a
dedicated user created here (``useradd --no-create-home``) and removed afterwards.
"""

from __future__ import annotations

import os
import pwd
import re
import secrets
import shutil
import subprocess
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from ingestion.config.loader import Environment
from reconciler import diff
from reconciler.backends.crontab import CrontabBackend
from reconciler.model import ChangeSet, Result

TESTDATA = Path(__file__).resolve().parents[4] / "tests" / "testdata" / "crontab"
CRONTAB = shutil.which("crontab")
SPOOL = Path("/var/spool/cron/crontabs")
DIGEST = "0123456789abcdef" * 4
REVISION = "e50c42a4b8b3e6bbbc7fe54793750499dd9e1ebe"


def fixture_bytes(name: str) -> bytes:
    return (TESTDATA / name).read_bytes()


def settings(target: Mapping[str, str], **crontab: Any) -> dict[str, Any]:
    """environment.yaml settings with a crontab section (as in environments/dev)."""
    section = {
        "target": dict(target),
        "host_timezone": "UTC",
        "supports_cron_tz": False,
        "lock_dir": ".salam/locks",
        **crontab,
    }
    return {"environment": "dev", "workdir": ".", "crontab": section}


def environment(
    root: Path, target: Mapping[str, str], name: str = "dev", **crontab: Any
) -> Environment:
    return Environment(name, root, settings(target, **crontab), ())


def plan(
    job: str,
    cron: str = "0 * * * *",
    zone: str = "UTC",
    env: str = "dev",
    command: Sequence[str] | None = None,
    log_file: str | None = "/var/log/salam.log",
    digest: str = DIGEST,
) -> dict[str, Any]:
    """A plain_cron plan in the shape ingestion.plan.render produces."""
    argv = list(
        command
        or [
            "spark-submit",
            "--master",
            "local[*]",
            "app.py",
            "run",
            "--config",
            f"environments/{env}/jobs/{job}.yaml",
        ]
    )
    return {
        "job": job,
        "environment": env,
        "mode": "plain_cron",
        "execution_command": argv,
        "schedule": {"cron": cron, "timezone": zone},
        "cron": {"log_file": log_file, "host_timezone": "UTC"},
        "bookkeeping": {"digest": digest, "git_revision": REVISION, "git_dirty": False},
    }


def reconcile(
    backend: CrontabBackend, plans: Sequence[Mapping[str, Any]], prune: bool = True
) -> tuple[ChangeSet, list[Result]]:
    """Render, read, diff and apply the pending changes: what the engine does, minus the rest."""
    desired = [backend.render(p) for p in plans]
    changes = diff.compute(backend.environment.name, desired, backend.read(), prune=prune)
    pending = changes.pending()
    return changes, backend.apply(pending) if pending else []


def changes_of(
    backend: CrontabBackend, plans: Sequence[Mapping[str, Any]], prune: bool = True
) -> ChangeSet:
    desired = [backend.render(p) for p in plans]
    return diff.compute(backend.environment.name, desired, backend.read(), prune=prune)


def without_block(data: bytes, env: str = "dev") -> bytes:
    """``data`` minus the lines from ``# BEGIN salam env=<env>`` to ``# END salam env=<env>``.

    Written independently of the backend's parser, to check it.
    """
    pattern = (
        rb"(?m)^# BEGIN salam env=" + re.escape(env.encode()) + rb" [^\n]*\n"
        rb"(?:[^\n]*\n)*?# END salam env=" + re.escape(env.encode()) + rb"\n"
    )
    return re.sub(pattern, b"", data, count=1)


class CronUser:
    """A throw-away system user whose crontab the tests own."""

    def __init__(self, name: str) -> None:
        self.name = name

    def install(self, data: bytes) -> None:
        assert CRONTAB
        if data:
            subprocess.run(
                [CRONTAB, "-u", self.name, "-"], input=data, check=True, capture_output=True
            )
        else:
            self.remove()

    def content(self) -> bytes:
        """The installed bytes, from the spool file (``crontab -l`` shows CR as ``\\r``)."""
        path = SPOOL / self.name
        if not path.exists():
            return b""
        data = path.read_bytes()
        for _ in range(3):  # crontab's own header: DO NOT EDIT, installed on, Cron version
            assert data.startswith(b"# "), data[:80]
            data = data[data.index(b"\n") + 1 :]
        return data

    def remove(self) -> None:
        assert CRONTAB
        subprocess.run([CRONTAB, "-u", self.name, "-r"], capture_output=True, check=False)

    def ids(self) -> tuple[int, int]:
        """The user's uid and gid."""
        entry = pwd.getpwnam(self.name)
        return entry.pw_uid, entry.pw_gid


@pytest.fixture(scope="module")
def cron_user_module() -> Iterator[CronUser]:
    if CRONTAB is None:
        pytest.skip("the crontab command is missing: apt-get install -y cron")
    if os.geteuid() != 0:
        pytest.skip("creating a test user and using crontab -u needs root")
    name = f"salamtest{secrets.token_hex(3)}"
    subprocess.run(
        ["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
        check=True,
        capture_output=True,
    )
    user = CronUser(name)
    try:
        yield user
    finally:
        user.remove()
        subprocess.run(["userdel", name], check=False, capture_output=True)


@pytest.fixture
def cron_user(cron_user_module: CronUser) -> Iterator[CronUser]:
    """The test user with an empty crontab (emptied again afterwards)."""
    cron_user_module.remove()
    yield cron_user_module
    cron_user_module.remove()


@pytest.fixture
def file_backend(tmp_path: Path) -> Callable[..., CrontabBackend]:
    """A backend on a file target under tmp_path (``.salam/cron/salam-dev.cron``)."""

    def make(name: str = "dev", **crontab: Any) -> CrontabBackend:
        target = {"file": f".salam/cron/salam-{name}.cron"}
        return CrontabBackend(environment(tmp_path, target, name, **crontab))

    return make


@pytest.fixture
def fake_crontab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A ``crontab`` first on PATH that lists through the real one and fails every install."""
    assert CRONTAB
    directory = tmp_path / "fakebin"
    directory.mkdir()
    script = directory / "crontab"
    script.write_text(
        "#!/bin/sh\n"
        'for arg in "$@"; do [ "$arg" = "-l" ] && exec ' + CRONTAB + ' "$@"; done\n'
        "cat >/dev/null\n"
        'echo "crontab: simulated failure: cannot rename temporary file" >&2\n'
        "exit 1\n"
    )
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{directory}{os.pathsep}{os.environ.get('PATH', '')}")
    return script
