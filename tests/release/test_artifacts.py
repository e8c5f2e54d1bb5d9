"""The Python artifacts: one version, reproducible bytes, checksums that sha256sum accepts, and a
``--py-files`` zip that Python imports the ingestion package from."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

from ingestion import __version__
from tests.conftest import ROOT


def build_artifacts(dist: Path) -> dict[str, str]:
    subprocess.run(
        [sys.executable, "-m", "tools.release", "--no-image", "--dist", str(dist)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    record = json.loads((dist / "artifacts.json").read_text())
    return {a["name"]: a["sha256"] for a in record["artifacts"]}


def test_artifacts_are_reproducible_and_carry_the_one_version(tmp_path: Path) -> None:
    first = build_artifacts(tmp_path / "a")
    second = build_artifacts(tmp_path / "b")
    assert first == second  # built twice, at different times: the same bytes
    assert sorted(first) == [
        f"salam-{__version__}-py-files.zip",
        f"salam-{__version__}-py3-none-any.whl",
        f"salam-{__version__}.tar.gz",
    ]
    revision = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert json.loads((tmp_path / "a" / "artifacts.json").read_text())["revision"] == revision
    checked = subprocess.run(
        ["sha256sum", "--check", "SHA256SUMS"],
        cwd=tmp_path / "a",
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    with zipfile.ZipFile(tmp_path / "a" / f"salam-{__version__}-py3-none-any.whl") as wheel:
        metadata = wheel.read(f"salam-{__version__}.dist-info/METADATA").decode()
    assert f"\nVersion: {__version__}\n" in metadata


def test_the_py_files_zip_is_what_executors_import(tmp_path: Path) -> None:
    build_artifacts(tmp_path)
    archive = tmp_path / f"salam-{__version__}-py-files.zip"
    with zipfile.ZipFile(archive) as opened:
        names = opened.namelist()
    assert "ingestion/__init__.py" in names
    assert not [n for n in names if n.endswith(".pyc") or not n.startswith("ingestion/")]
    code = (
        f"import sys; sys.path.insert(0, {str(archive)!r}); "
        "import ingestion.plan.sparkconf as m; print(m.__file__)"
    )  # as spark-submit --py-files puts the zip on the executors' path
    imported = subprocess.run(
        [sys.executable, "-I", "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.strip().startswith(str(archive))
