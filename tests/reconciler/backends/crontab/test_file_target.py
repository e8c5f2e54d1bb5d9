"""The crontab backend end to end on a file target (a crontab-format file per environment)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from ingestion.config.loader import load_environment
from ingestion.plan.environment import render_all
from reconciler import atomicfile, diff
from reconciler.backends import base
from reconciler.backends.base import BackendError
from reconciler.backends.crontab import CrontabBackend, block, target
from reconciler.model import Action
from tests.reconciler.backends.crontab.conftest import (
    changes_of,
    fixture_bytes,
    plan,
    reconcile,
    without_block,
)

Make = Callable[..., CrontabBackend]
ODD = [
    "plain.crontab",
    "crlf.crontab",
    "no_trailing_newline.crontab",
    "other_blocks.crontab",
    "empty.crontab",
    "unterminated_entry.crontab",
]
PLANS = [plan("orders"), plan("accounts", "15 2 * * *"), plan("usage", "*/10 * * * *")]


def cron_file(backend: CrontabBackend) -> Path:
    assert isinstance(backend.target, target.FileTarget)
    return backend.target.path


def install(backend: CrontabBackend, data: bytes) -> Path:
    path = cron_file(backend)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_is_registered_as_crontab(tmp_path: Path, file_backend: Make) -> None:
    backend = base.create("crontab", file_backend().environment)
    assert isinstance(backend, CrontabBackend)


def test_create_then_second_run_has_no_changes(file_backend: Make, tmp_path: Path) -> None:
    backend = file_backend()
    changes, results = reconcile(backend, PLANS)
    assert [c.action for c in changes.pending()] == [Action.CREATE] * 3
    assert all(r.ok for r in results)
    assert changes_of(backend, PLANS).empty
    text = cron_file(backend).read_text()
    assert text.startswith("# BEGIN salam env=dev (managed by salam; edits inside are overwritten)")
    assert "# salam job=accounts digest=0123456789ab revision=e50c42a4b8b3\n15 2 * * * cd " in text
    assert f"cd {tmp_path} && flock -n {tmp_path}/.salam/locks/dev-orders.lock spark-submit" in text
    assert (tmp_path / ".salam" / "locks").is_dir()


def test_one_read_and_one_write_per_apply(file_backend: Make) -> None:
    backend = file_backend()
    install(backend, fixture_bytes("plain.crontab"))
    reconcile(backend, PLANS)
    assert (backend.target.reads, backend.target.writes) == (2, 1)


def test_live_and_desired_have_the_same_canonical_shape(file_backend: Make) -> None:
    backend = file_backend()
    reconcile(backend, PLANS[:1])
    (live,) = backend.read()
    desired = backend.render(PLANS[0])
    assert live.key == desired.key
    assert str(live.key) == "crontab/file:.salam/cron/salam-dev.cron/orders"
    assert dict(live.spec) == dict(desired.spec)
    assert sorted(live.spec) == ["command", "schedule"]
    assert (
        dict(live.meta)
        == dict(desired.meta)
        == {"digest": "0123456789ab", "revision": "e50c42a4b8b3"}
    )
    assert live.managed


def test_real_dev_plans_apply_and_converge(project: Callable[..., Path]) -> None:
    root = project("dev")
    environment = load_environment(root, "dev")
    plans = [
        p for p in render_all(environment, with_git=False).values() if p["mode"] == "plain_cron"
    ]
    assert plans
    backend = CrontabBackend(environment)
    _, results = reconcile(backend, plans)
    assert results and all(r.ok for r in results)
    assert changes_of(backend, plans).empty
    text = (root / ".salam" / "cron" / "salam-dev.cron").read_text()
    assert "revision=-\n" in text
    assert f"cd {root.resolve()} && flock -n {root.resolve()}/.salam/locks/dev-" in text


@pytest.mark.parametrize("name", ODD)
def test_unmanaged_lines_survive_create_update_and_delete(file_backend: Make, name: str) -> None:
    backend = file_backend()
    original = fixture_bytes(name)
    path = install(backend, original)
    reconcile(backend, PLANS)
    assert without_block(path.read_bytes()) == original
    changed = [plan("orders", "45 * * * *"), *PLANS[1:]]
    changes, _ = reconcile(backend, changed)
    assert [c.action for c in changes.pending()] == [Action.UPDATE]
    assert without_block(path.read_bytes()) == original
    changes, _ = reconcile(backend, PLANS[1:])
    assert [c.action for c in changes.pending()] == [Action.DELETE]
    assert without_block(path.read_bytes()) == original
    reconcile(backend, [])
    assert path.read_bytes() == original


def test_an_existing_block_in_the_middle_is_reconciled_in_place(file_backend: Make) -> None:
    backend = file_backend()
    original = fixture_bytes("existing_block.crontab")
    path = install(backend, original)
    changes, _ = reconcile(backend, PLANS)
    assert sorted((c.action.name, c.key.name) for c in changes.pending()) == [
        ("CREATE", "accounts"),
        ("CREATE", "orders"),
        ("CREATE", "usage"),
        ("DELETE", "retired"),
    ]
    assert without_block(path.read_bytes()) == without_block(original)
    assert path.read_bytes().endswith(
        b"# END salam env=dev\n# lines after the block stay after it\n0 7 * * * /usr/bin/evening\n"
    )


def test_other_environments_blocks_are_untouched(file_backend: Make) -> None:
    backend = file_backend("uat")
    original = fixture_bytes("other_blocks.crontab")
    path = install(backend, original)
    live = backend.read()
    assert [r.job for r in live] == ["orders"]
    reconcile(backend, [plan("orders", env="uat"), plan("billing", env="uat")])
    data = path.read_bytes()
    assert data.startswith(original[: original.index(b"# BEGIN salam env=uat")])
    assert data.endswith(original[original.index(b"# BEGIN salam env=prod-eu") :])
    prod = file_backend("prod")
    install(prod, original)
    assert prod.read() == []
    reconcile(prod, [])
    assert cron_file(prod).read_bytes() == original


def test_a_hand_edited_entry_is_an_update_with_field_detail_and_is_fixed(
    file_backend: Make,
) -> None:
    backend = file_backend()
    path = install(backend, fixture_bytes("plain.crontab"))
    reconcile(backend, PLANS)
    installed = path.read_bytes()
    path.write_bytes(
        installed.replace(b"\n15 2 * * * cd ", b"\n15 5 * * * cd ").replace(
            b"usage.lock spark-submit", b"usage.lock nice spark-submit"
        )
    )
    changes, results = reconcile(backend, PLANS)
    pending = changes.pending()
    assert [(c.action, c.key.name) for c in pending] == [
        (Action.UPDATE, "accounts"),
        (Action.UPDATE, "usage"),
    ]
    assert [(f.path, f.before, f.after) for f in pending[0].fields] == [
        ("schedule", "15 5 * * *", "15 2 * * *")
    ]
    assert [f.path for f in pending[1].fields] == ["command"]
    assert all(r.ok for r in results)
    assert path.read_bytes() == installed


def test_a_marker_without_entry_is_drift_and_is_fixed(file_backend: Make) -> None:
    backend = file_backend()
    reconcile(backend, PLANS)
    path = cron_file(backend)
    installed = path.read_text()
    lines = installed.split("\n")
    entry = next(i for i, line in enumerate(lines) if "usage.lock" in line)
    path.write_text("\n".join(lines[:entry] + lines[entry + 1 :]))
    (change,) = changes_of(backend, PLANS).pending()
    assert change.action is Action.UPDATE and change.key.name == "usage"
    assert ("problem", block.NO_ENTRY, None) in [(f.path, f.before, f.after) for f in change.fields]
    reconcile(backend, PLANS)
    assert path.read_text() == installed


def test_garbage_inside_the_block_is_reported_and_removed(file_backend: Make) -> None:
    backend = file_backend()
    reconcile(backend, PLANS)
    path = cron_file(backend)
    installed = path.read_text()
    path.write_text(
        installed.replace("# END salam env=dev\n", "0 3 * * * rm -rf /tmp/x\n# END salam env=dev\n")
    )
    kept, _ = reconcile(backend, [plan("orders", "5 * * * *"), *PLANS[1:]], prune=False)
    assert [c.action for c in kept.pending()] == [Action.UPDATE]
    assert "rm -rf /tmp/x" in path.read_text()
    (change,) = changes_of(backend, [plan("orders", "5 * * * *"), *PLANS[1:]]).pending()
    assert change.action is Action.DELETE and change.key.name.startswith("stray-")
    assert change.before is not None
    assert change.before.spec["line"] == "0 3 * * * rm -rf /tmp/x"
    reconcile(backend, PLANS)
    assert path.read_text() == installed


def test_without_prune_a_removed_job_stays(file_backend: Make) -> None:
    backend = file_backend()
    reconcile(backend, PLANS)
    changes, _ = reconcile(backend, PLANS[:1], prune=False)
    assert changes.empty
    assert sorted(r.job for r in backend.read()) == ["accounts", "orders", "usage"]


def test_removing_every_entry_removes_the_block(file_backend: Make) -> None:
    backend = file_backend()
    path = install(backend, b"MAILTO=x\n")
    reconcile(backend, PLANS)
    reconcile(backend, [])
    assert path.read_bytes() == b"MAILTO=x\n"


def test_a_broken_fence_is_a_clear_error_and_nothing_is_written(file_backend: Make) -> None:
    backend = file_backend()
    original = b"MAILTO=x\n# BEGIN salam env=dev (managed by salam)\n0 * * * * a\n"
    path = install(backend, original)
    with pytest.raises(BackendError, match=r"file:.salam/cron/salam-dev.cron.*BEGIN.*line 2"):
        backend.read()
    desired = [backend.render(p) for p in PLANS]
    changes = diff.compute("dev", desired, [], prune=True)
    results = backend.apply(changes.pending())
    assert not any(r.ok for r in results)
    assert "BEGIN" in results[0].error
    assert path.read_bytes() == original


def test_a_failed_write_leaves_the_file_exactly_as_before(
    file_backend: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = file_backend()
    path = install(backend, fixture_bytes("crlf.crontab"))
    reconcile(backend, PLANS)
    before = path.read_bytes()

    def broken_replace(source: str, destination: str) -> None:
        raise OSError(5, "Input/output error", destination)

    monkeypatch.setattr(atomicfile.os, "replace", broken_replace)
    changes, results = reconcile(backend, [plan("orders", "1 * * * *"), plan("new")])
    assert len(results) == len(changes.pending()) == 4
    assert not any(r.ok for r in results)
    assert "Input/output error" in results[0].error and "unchanged" in results[0].error
    assert path.read_bytes() == before
    assert sorted(os.listdir(path.parent)) == [path.name]


def test_a_read_only_directory_fails_the_whole_batch(file_backend: Make, tmp_path: Path) -> None:
    backend = file_backend()
    path = install(backend, b"MAILTO=x\n")
    path.parent.chmod(0o555)
    try:
        if os.access(path.parent, os.W_OK):
            pytest.skip("running as root: directory permissions do not stop writes")
        _, results = reconcile(backend, PLANS)
    finally:
        path.parent.chmod(0o755)
    assert not any(r.ok for r in results)
    assert path.read_bytes() == b"MAILTO=x\n"


def test_a_block_changed_since_read_is_not_overwritten(file_backend: Make) -> None:
    backend = file_backend()
    reconcile(backend, PLANS)
    desired = [backend.render(p) for p in [plan("orders", "7 * * * *"), *PLANS[1:]]]
    changes = diff.compute("dev", desired, backend.read())
    path = cron_file(backend)
    edited = path.read_text().replace("\n0 * * * * cd", "\n9 * * * * cd")
    path.write_text(edited)
    results = backend.apply(changes.pending())
    assert not any(r.ok for r in results)
    assert "changed since it was read" in results[0].error
    assert path.read_text() == edited


def test_restoring_the_before_image_gives_back_the_same_bytes(file_backend: Make) -> None:
    backend = file_backend()
    path = install(backend, fixture_bytes("other_blocks.crontab"))
    reconcile(backend, PLANS)
    original = path.read_bytes()
    journal = backend.read()
    reconcile(backend, [plan("orders", "2 * * * *"), plan("fresh")])
    desired = [resource.as_desired() for resource in journal]
    changes = diff.compute("dev", desired, backend.read())
    assert all(r.ok for r in backend.apply(changes.pending()))
    assert path.read_bytes() == original


def test_a_fixed_offset_zone_is_translated_to_the_host_zone(file_backend: Make) -> None:
    backend = file_backend()
    desired = backend.render(plan("orders", "0 * * * *", zone="Asia/Kolkata"))
    assert desired.spec["schedule"] == "30 * * * *"
    assert "cron_tz" not in desired.spec


def test_a_daylight_saving_zone_on_a_utc_host_is_refused_naming_job_and_zone(
    file_backend: Make,
) -> None:
    backend = file_backend()
    with pytest.raises(BackendError, match=r"job 'orders'.*Europe/Berlin.*hint"):
        backend.render(plan("orders", "0 9 * * *", zone="Europe/Berlin"))


def test_cron_tz_where_supported_round_trips(file_backend: Make) -> None:
    backend = file_backend(supports_cron_tz=True)
    plans = [plan("berlin", "0 9 * * *", zone="Europe/Berlin"), plan("utc", "0 9 * * *")]
    assert backend.render(plans[0]).spec["cron_tz"] == "Europe/Berlin"
    reconcile(backend, plans)
    text = cron_file(backend).read_text()
    assert "CRON_TZ=Europe/Berlin\n0 9 * * * cd " in text
    assert "CRON_TZ=UTC\n# END salam" not in text
    assert changes_of(backend, plans).empty


def test_percent_signs_are_escaped_for_cron(file_backend: Make) -> None:
    backend = file_backend()
    plans = [plan("dated", command=["run", "--day", "%Y-%m-%d"])]
    assert "run --day \\%Y-\\%m-\\%d >> " in backend.render(plans[0]).spec["command"]
    reconcile(backend, plans)
    assert changes_of(backend, plans).empty


def test_a_line_break_in_a_command_is_refused(file_backend: Make) -> None:
    with pytest.raises(BackendError, match=r"job 'bad'.*line break"):
        file_backend().render(plan("bad", command=["echo", "a\nb"]))


def test_no_target_is_a_clear_error(tmp_path: Path) -> None:
    from ingestion.config.loader import Environment

    backend = CrontabBackend(Environment("dev", tmp_path, {"crontab": {}}, ()))
    with pytest.raises(BackendError, match=r"crontab.target.user or crontab.target.file"), backend:
        pass
