"""A crontab target that moved out of the config is still found: the inventory says where to
look. A crontab file switched to a real user's crontab (Debian ``crontab``): drift reports what
was left in the file as orphaned; the next reconcile creates in the user's crontab and removes
from the file, and then all is in sync.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.reconciler.backends.crontab.conftest import CronUser
from tests.reconciler.backends.moved import edit_settings, reconcile, recorded

pytestmark = pytest.mark.integration

DEV_FILE_TARGET = "    file: .salam/cron/salam-dev.cron\n"


def test_a_crontab_target_switched_to_a_user_leaves_nothing_behind(
    project: Callable[..., Path], cron_user: CronUser
) -> None:
    root = project("dev")
    cron_file = root / ".salam/cron/salam-dev.cron"
    assert reconcile(root, "--backend", "crontab")[0] == 0
    assert "# BEGIN salam env=dev" in cron_file.read_text()
    assert "crontab/file:.salam/cron/salam-dev.cron/subscriptions" in recorded(root)

    edit_settings(root, DEV_FILE_TARGET, f"    user: {cron_user.name}\n")
    code, out = reconcile(root, "--backend", "crontab", "--output", "json", command=("drift",))
    assert code == 4, out
    kinds = {f["key"]: f["kind"] for f in json.loads(out)["findings"]}
    assert kinds["crontab/file:.salam/cron/salam-dev.cron/subscriptions"] == "orphan"
    assert kinds[f"crontab/user:{cron_user.name}/subscriptions"] == "missing"

    code, out = reconcile(root, "--backend", "crontab")
    assert code == 0, out
    assert "salam" not in cron_file.read_text()
    assert b"# salam job=subscriptions" in cron_user.content()
    assert list(recorded(root)) == [f"crontab/user:{cron_user.name}/subscriptions"]
    code, out = reconcile(root, "--backend", "crontab", "--dry-run", "--exit-code")
    assert code == 0 and "is in sync" in out
