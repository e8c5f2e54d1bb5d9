"""``reconcile lock`` writes spark.lock; ``reconcile validate`` fails when a jar or py-file differs
from it, is not in it, or cannot be read; the plans carry the locked checksums."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, run_reconcile

JARS_LINE = "jars: [/usr/share/java/postgresql.jar, /usr/share/java/sqlite-jdbc.jar]"
DRIVER, HELPER = "jars/driver.jar", "jars/helper.jar"


def _with_own_jars(project: Callable[..., Path]) -> Path:
    """dev with its own two jars (relative paths, read from the project root), not yet locked."""
    root = project("dev")
    (root / "jars").mkdir()
    (root / DRIVER).write_bytes(b"PK\x03\x04 a JDBC driver")
    (root / HELPER).write_bytes(b"PK\x03\x04 a helper")
    _edit_settings(root, JARS_LINE, f"jars: [{DRIVER}, {HELPER}]")
    (root / "environments/dev/spark.lock").unlink()
    return root


def _edit_settings(root: Path, old: str, new: str) -> None:
    settings = root / "environments/dev/environment.yaml"
    text = settings.read_text(encoding="utf-8")
    assert old in text
    settings.write_text(text.replace(old, new), encoding="utf-8")


def _run(root: Path, *args: str) -> tuple[int, dict[str, Any]]:
    result = run_reconcile(*args, "--env", "dev", "--root", str(root), "-o", "json")
    return result.exit_code, json.loads(result.stdout)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _flip_a_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[-1] ^= 0x01
    path.write_bytes(bytes(data))


def test_lock_then_validate_is_clean(project: Callable[..., Path]) -> None:
    root = _with_own_jars(project)
    code, document = _run(root, "lock")
    assert code == 0
    assert document["files"] == {DRIVER: _sha(root / DRIVER), HELPER: _sha(root / HELPER)}
    assert document["changed"] == {DRIVER: "create", HELPER: "create"}
    lock = (root / "environments/dev/spark.lock").read_text(encoding="utf-8")
    assert f"  {DRIVER}:\n    sha256: {_sha(root / DRIVER)}\n" in lock
    code, document = _run(root, "validate")
    assert (code, document["diagnostics"]) == (0, [])
    assert _run(root, "lock")[1]["changed"] == {}  # a second run changes nothing


def test_a_tampered_jar_fails_validate_naming_it_and_both_checksums(
    project: Callable[..., Path],
) -> None:
    root = _with_own_jars(project)
    run_reconcile("lock", "--env", "dev", "--root", str(root))
    expected = _sha(root / DRIVER)
    _flip_a_byte(root / DRIVER)
    code, document = _run(root, "validate")
    assert code == 3
    [problem] = document["diagnostics"]
    assert problem["code"] == "spark-file-checksum-mismatch"
    assert problem["file"] == "environments/dev/spark.lock" and problem["line"] > 0
    assert f"expected sha256 {expected}, found {_sha(root / DRIVER)}" in problem["summary"]
    assert problem["summary"].startswith(DRIVER)
    assert "reconcile lock --env dev" in problem["hint"]
    text = run_reconcile("validate", "--env", "dev", "--root", str(root))
    assert text.exit_code == 3
    assert f"error[spark-file-checksum-mismatch] $.files['{DRIVER}']" in text.output


def test_a_jar_missing_from_the_lock_fails_validate(project: Callable[..., Path]) -> None:
    root = _with_own_jars(project)
    run_reconcile("lock", "--env", "dev", "--root", str(root))
    (root / "jars/extra.jar").write_bytes(b"PK\x03\x04 extra")
    _edit_settings(
        root, f"jars: [{DRIVER}, {HELPER}]", f"jars: [{DRIVER}, {HELPER}, jars/extra.jar]"
    )
    code, document = _run(root, "validate")
    assert code == 3
    assert [(d["code"], d["summary"].split()[0]) for d in document["diagnostics"]] == [
        ("spark-file-not-locked", "jars/extra.jar")
    ]


def test_an_unreadable_jar_is_an_error_unless_the_environment_says_warning(
    project: Callable[..., Path],
) -> None:
    root = _with_own_jars(project)
    run_reconcile("lock", "--env", "dev", "--root", str(root))
    (root / HELPER).unlink()
    code, document = _run(root, "validate")
    assert code == 3
    [problem] = document["diagnostics"]
    assert (problem["code"], problem["severity"]) == ("spark-file-unreadable", "error")
    assert "No such file or directory" in problem["summary"]

    _edit_settings(
        root, "  deploy_mode: client\n", "  deploy_mode: client\n  unreadable_files: warning\n"
    )
    code, document = _run(root, "validate")
    assert code == 0
    assert [(d["code"], d["severity"]) for d in document["diagnostics"]] == [
        ("spark-file-unreadable", "warning")
    ]


def test_lock_refuses_a_file_it_cannot_read_and_keeps_the_lock(
    project: Callable[..., Path],
) -> None:
    root = _with_own_jars(project)
    run_reconcile("lock", "--env", "dev", "--root", str(root))
    before = (root / "environments/dev/spark.lock").read_bytes()
    (root / HELPER).unlink()
    code, document = _run(root, "lock")
    assert code == 1
    assert HELPER in document["error"]["message"]
    assert (root / "environments/dev/spark.lock").read_bytes() == before


def test_an_unused_lock_entry_is_a_warning_and_lock_drops_it(project: Callable[..., Path]) -> None:
    root = _with_own_jars(project)
    run_reconcile("lock", "--env", "dev", "--root", str(root))
    _edit_settings(root, f"jars: [{DRIVER}, {HELPER}]", f"jars: [{DRIVER}]")
    code, document = _run(root, "validate")
    assert code == 0
    assert [(d["code"], d["severity"]) for d in document["diagnostics"]] == [
        ("spark-lock-unused", "warning")
    ]
    assert _run(root, "lock")[1]["changed"] == {HELPER: "delete"}


def test_the_plans_change_when_the_lock_changes(project: Callable[..., Path]) -> None:
    root = _with_own_jars(project)
    run_reconcile("lock", "--env", "dev", "--root", str(root))
    assert run_reconcile("render", "--env", "dev", "--root", str(root)).exit_code == 0
    plan = root / "manifests/rendered/dev/payments.json"
    before = json.loads(plan.read_text(encoding="utf-8"))
    assert before["spark"]["files"] == [
        {"path": DRIVER, "sha256": _sha(root / DRIVER)},
        {"path": HELPER, "sha256": _sha(root / HELPER)},
    ]

    _flip_a_byte(root / DRIVER)  # a jar upgrade, locked on purpose
    assert _run(root, "lock")[1]["changed"] == {DRIVER: "update"}
    code, document = _run(root, "render", "--check")
    assert code == 4 and "payments.json" in document["changed"]  # CI's render --check fails
    run_reconcile("render", "--env", "dev", "--root", str(root))
    after = json.loads(plan.read_text(encoding="utf-8"))
    assert after["spark"]["files"][0] == {"path": DRIVER, "sha256": _sha(root / DRIVER)}
    assert after["bookkeeping"]["digest"] != before["bookkeeping"]["digest"]


@pytest.mark.parametrize("env", ["dev", "uat", "prod"])
def test_committed_locks_match_the_debian_jars_and_the_plans_carry_them(env: str) -> None:
    """The committed locks hold the jars scripts/setup.sh installs (Debian 12's
    libpostgresql-jdbc-java and libxerial-sqlite-jdbc-java); on a machine with other versions
    this test and `reconcile validate` fail, saying which jar changed."""
    lock = run_reconcile("validate", "--env", env, "--root", str(ROOT), "-o", "json")
    assert json.loads(lock.stdout)["diagnostics"] == []
    for path in (ROOT / "manifests/rendered" / env).glob("*.json"):
        plan = json.loads(path.read_text(encoding="utf-8"))
        for file in plan.get("spark", {}).get("files", []):
            assert file["sha256"] == _sha(Path(file["path"]))


def test_a_broken_lock_is_located_and_lock_rewrites_it(project: Callable[..., Path]) -> None:
    root = project("dev")
    lock = root / "environments/dev/spark.lock"
    committed = lock.read_text(encoding="utf-8")
    lock.write_text(committed.replace("sha256: e", "sha256: E", 1), encoding="utf-8")
    code, document = _run(root, "validate")
    assert code == 3
    broken = [d for d in document["diagnostics"] if d["file"] == "environments/dev/spark.lock"]
    assert broken and broken[0]["line"] > 0 and broken[0]["path"].endswith(".sha256")
    assert _run(root, "lock")[0] == 0
    assert lock.read_text(encoding="utf-8") == committed
