"""A crontab file target in cron.d format: each line names the user cron runs it as.

A file in /etc/cron.d, or one declared ``format: cron.d``, gets the user field
(``m h dom mon dow user command``) on write and has it parsed back on read, so an in-sync
file shows no changes and a hand-edited user shows as drift. ``reconcile validate`` refuses a
cron.d target cron would ignore (no user, a file name with a dot). The real daemon running such
a file is in test_cron_daemon.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from reconciler.backends.base import BackendError
from reconciler.backends.crontab import CrontabBackend, block
from reconciler.backends.crontab.backend import make_target
from reconciler.backends.crontab.target import FileTarget
from reconciler.model import Action
from tests.conftest import run_reconcile
from tests.reconciler.backends.crontab.conftest import changes_of, environment, plan, reconcile

PLANS = [plan("orders"), plan("dated", "15 2 * * *", command=["run", "--day", "%Y-%m-%d"])]
TARGET = {"file": ".salam/cron/salam-dev", "format": "cron.d", "user": "salam"}


def backend(tmp_path: Path, **target: str) -> CrontabBackend:
    return CrontabBackend(environment(tmp_path, {**TARGET, **target}))


def test_lines_carry_the_user_field_and_read_back_in_sync(tmp_path: Path) -> None:
    made = backend(tmp_path)
    changes, results = reconcile(made, PLANS)
    assert [c.action for c in changes.pending()] == [Action.CREATE] * 2
    assert all(r.ok for r in results)
    text = (tmp_path / ".salam/cron/salam-dev").read_text()
    assert "\n15 2 * * * salam cd " in text
    assert "run --day \\%Y-\\%m-\\%d" in text
    assert changes_of(made, PLANS).empty
    live = {r.key.name: r.spec for r in made.read()}
    assert live["orders"]["user"] == "salam"
    assert live["orders"] == made.render(PLANS[0]).spec


def test_a_hand_edited_user_shows_as_drift_and_is_put_back(tmp_path: Path) -> None:
    made = backend(tmp_path)
    reconcile(made, PLANS)
    path = tmp_path / ".salam/cron/salam-dev"
    path.write_text(path.read_text().replace("* * * * salam cd", "* * * * root cd"))
    (change,) = changes_of(made, PLANS).pending()
    assert (change.action, change.key.name) == (Action.UPDATE, "orders")
    assert change.before is not None and change.before.spec["user"] == "root"
    reconcile(made, PLANS)
    assert "* * * * root cd" not in path.read_text()


def test_a_user_crontab_line_in_a_cron_d_file_is_not_an_entry() -> None:
    spec = block.entry_spec("0 * * * *", user_field=True)
    assert spec["problem"] == block.NOT_AN_ENTRY
    assert block.entry_spec("0 * * * * salam run", user_field=True) == {
        "schedule": "0 * * * *",
        "user": "salam",
        "command": "run",
    }


def test_a_file_in_etc_cron_d_is_cron_d_format(tmp_path: Path) -> None:
    target = make_target(
        environment(tmp_path, {}), {"target": {"file": "/etc/cron.d/x", "user": "s"}}
    )
    assert isinstance(target, FileTarget) and target.user == "s"
    plain = make_target(environment(tmp_path, {}), {"target": {"file": "x.cron"}})
    assert isinstance(plain, FileTarget) and plain.user is None


def test_a_cron_d_file_without_user_is_refused_before_anything_is_written(
    tmp_path: Path,
) -> None:
    with pytest.raises(BackendError, match=r"cron.d-format file.*crontab.target.user"):
        make_target(environment(tmp_path, {}), {"target": {"file": "/etc/cron.d/salam-dev"}})


@pytest.mark.parametrize(
    ("target", "code", "words"),
    [
        ("file: /etc/cron.d/salam-dev", "missing-key", "missing required key 'user'"),
        ("file: /etc/cron.d/salam-dev.cron\n    user: salam", "invalid-value", "cron ignores"),
        ("file: cron/salam-dev\n    user: salam", "missing-key", "missing required key 'format'"),
        ("file: cron/salam-dev\n    format: cron.d", "missing-key", "missing required key 'user'"),
        ("format: cron.d\n    user: salam", "missing-key", "'format' needs 'file'"),
    ],
)
def test_validate_refuses_a_cron_d_target_cron_would_ignore(
    project: Callable[..., Path], target: str, code: str, words: str
) -> None:
    root = project("dev")
    settings = root / "environments/dev/environment.yaml"
    text = settings.read_text()
    settings.write_text(text.replace("file: .salam/cron/salam-dev.cron", target))
    result = run_reconcile("validate", "--env", "dev", "--root", str(root), "--output", "json")
    assert result.exit_code == 3, result.output
    found = [d for d in json.loads(result.stdout)["diagnostics"] if d["code"] == code]
    assert any(words in d["summary"] + " " + d["hint"] for d in found), found


def test_validate_accepts_a_cron_d_target_with_a_user(project: Callable[..., Path]) -> None:
    root = project("dev")
    settings = root / "environments/dev/environment.yaml"
    text = settings.read_text()
    settings.write_text(
        text.replace(
            "file: .salam/cron/salam-dev.cron", "file: /etc/cron.d/salam-dev\n    user: salam"
        )
    )
    result = run_reconcile("validate", "--env", "dev", "--root", str(root))
    assert result.exit_code == 0, result.output
