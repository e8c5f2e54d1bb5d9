"""The crontab backend on a real user's crontab through Debian's ``crontab`` command."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from reconciler import diff
from reconciler.backends.base import BackendError
from reconciler.backends.crontab import CrontabBackend, target
from reconciler.model import Action
from tests.reconciler.backends.crontab.conftest import (
    CRONTAB,
    CronUser,
    changes_of,
    environment,
    fixture_bytes,
    plan,
    reconcile,
    without_block,
)

pytestmark = pytest.mark.integration

# Every fixture crontab Debian's crontab accepts (it refuses a last entry without a newline).
ODD = [
    "plain.crontab",
    "crlf.crontab",
    "no_trailing_newline.crontab",
    "other_blocks.crontab",
    "existing_block.crontab",
    "empty.crontab",
]
PLANS = [plan("orders"), plan("accounts", "15 2 * * *"), plan("usage", "*/10 * * * *")]


def user_backend(root: Path, user: str, name: str = "dev") -> CrontabBackend:
    return CrontabBackend(environment(root, {"user": user}, name))


def test_create_is_idempotent_and_labelled_by_user(cron_user: CronUser, tmp_path: Path) -> None:
    backend = user_backend(tmp_path, cron_user.name)
    with backend:
        changes, results = reconcile(backend, PLANS)
        assert [c.action for c in changes.pending()] == [Action.CREATE] * 3
        assert all(r.ok for r in results)
        assert changes_of(backend, PLANS).empty
    assert str(backend.read()[0].key) == f"crontab/user:{cron_user.name}/accounts"
    content = cron_user.content()
    assert content.startswith(b"# BEGIN salam env=dev (managed by salam;")
    assert b"\n15 2 * * * cd " in content


@pytest.mark.parametrize("name", ODD)
def test_unmanaged_lines_survive_every_operation(
    cron_user: CronUser, tmp_path: Path, name: str
) -> None:
    original = fixture_bytes(name)
    cron_user.install(original)
    assert cron_user.content() == original
    outside = without_block(original)
    backend = user_backend(tmp_path, cron_user.name)
    reconcile(backend, PLANS)
    assert without_block(cron_user.content()) == outside
    reconcile(backend, [plan("orders", "45 * * * *"), *PLANS[1:]])
    assert without_block(cron_user.content()) == outside
    reconcile(backend, PLANS[1:])
    assert without_block(cron_user.content()) == outside
    assert changes_of(backend, PLANS[1:]).empty
    reconcile(backend, [])
    assert cron_user.content() == outside


def test_other_environments_block_survives_while_reconciling_prod(
    cron_user: CronUser, tmp_path: Path
) -> None:
    original = fixture_bytes("other_blocks.crontab")
    cron_user.install(original)
    backend = user_backend(tmp_path, cron_user.name, "prod")
    assert backend.read() == []
    reconcile(backend, [plan("orders", env="prod")])
    assert without_block(cron_user.content(), "prod") == original
    reconcile(backend, [])
    assert cron_user.content() == original


def test_a_hand_edit_is_detected_and_fixed(cron_user: CronUser, tmp_path: Path) -> None:
    backend = user_backend(tmp_path, cron_user.name)
    reconcile(backend, PLANS)
    installed = cron_user.content()
    cron_user.install(installed.replace(b"\n*/10 * * * * cd ", b"\n*/20 * * * * cd "))
    changes, results = reconcile(backend, PLANS)
    (change,) = changes.pending()
    assert change.action is Action.UPDATE and change.key.name == "usage"
    assert [(f.path, f.before, f.after) for f in change.fields] == [
        ("schedule", "*/20 * * * *", "*/10 * * * *")
    ]
    assert all(r.ok for r in results)
    assert cron_user.content() == installed


def test_a_failing_crontab_leaves_the_crontab_exactly_as_before(
    cron_user: CronUser, tmp_path: Path, fake_crontab: Path
) -> None:
    original = fixture_bytes("plain.crontab")
    cron_user.install(original)
    backend = user_backend(tmp_path, cron_user.name)
    changes, results = reconcile(backend, PLANS)
    assert len(results) == len(changes.pending()) == 3
    assert not any(r.ok for r in results)
    assert all("simulated failure" in r.error and "unchanged" in r.error for r in results)
    assert cron_user.content() == original


def test_a_failing_crontab_on_delete_keeps_the_old_block(
    cron_user: CronUser, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    backend = user_backend(tmp_path, cron_user.name)
    reconcile(backend, PLANS)
    before = cron_user.content()
    request.getfixturevalue("fake_crontab")
    changes, results = reconcile(backend, PLANS[:1])
    assert [c.action for c in changes.pending()] == [Action.DELETE, Action.DELETE]
    assert not any(r.ok for r in results)
    assert cron_user.content() == before


def test_a_user_that_does_not_exist_is_a_clear_error_and_nothing_is_written(
    tmp_path: Path,
) -> None:
    if CRONTAB is None:
        pytest.skip("the crontab command is missing: apt-get install -y cron")
    name = f"salamnouser{secrets.token_hex(3)}"
    backend = user_backend(tmp_path, name)
    message = rf"crontab target user '{name}' does not exist on this host; hint"
    with pytest.raises(BackendError, match=message), backend:
        pass
    with pytest.raises(BackendError, match=message):
        backend.read()
    desired = [backend.render(p) for p in PLANS]
    with pytest.raises(BackendError, match=message):
        backend.apply(diff.compute("dev", desired, []).pending())
    assert not Path(f"/var/spool/cron/crontabs/{name}").exists()
    assert not (tmp_path / ".salam").exists()


def test_carriage_returns_that_cannot_be_confirmed_stop_the_apply(
    cron_user: CronUser, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = fixture_bytes("crlf.crontab")
    cron_user.install(original)
    monkeypatch.setattr(target, "SPOOL", tmp_path / "no-spool")
    backend = user_backend(tmp_path, cron_user.name)
    with pytest.raises(BackendError, match=r"carriage returns.*hint"):
        backend.read()
    results = backend.apply(diff.compute("dev", [backend.render(PLANS[0])], []).pending())
    assert not results[0].ok and "carriage returns" in results[0].error
    assert cron_user.content() == original
