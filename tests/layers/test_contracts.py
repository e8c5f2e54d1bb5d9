"""The layer rules in pyproject.toml hold, and a forbidden import breaks them (import-linter).

Each case copies the packages and pyproject.toml, adds one import a contract forbids, and
expects ``lint-imports`` to fail naming that contract: a contract that cannot fail checks
nothing.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
PACKAGES = ("ingestion", "reconciler", "tools")


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=root,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("*.pyc"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_tree_keeps_every_contract(tree: Path) -> None:
    result = lint_imports(tree)
    assert result.returncode == 0, result.stdout
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("ingestion/plan/canonical.py", "import reconciler.model", "ingestion never imports"),
        (
            "reconciler/engine.py",
            "import reconciler.backends.crontab.backend",
            "the engine knows no concrete backend",
        ),
        ("reconciler/diff.py", "import temporalio", "temporalio only in"),
        ("ingestion/config/checks.py", "import ingestion.plan.render", "inside ingestion"),
        (
            "reconciler/backends/export/backend.py",
            "import reconciler.backends.crontab.block",
            "backends do not import each other",
        ),
        ("reconciler/cli/drift.py", "import reconciler.backends.temporal", "the CLI knows no"),
    ],
)
def test_a_forbidden_import_breaks_its_contract(
    tree: Path, module: str, line: str, contract: str
) -> None:
    path = tree / module
    path.write_text(path.read_text() + f"\n{line}  # injected by the test\n")
    result = lint_imports(tree)
    assert result.returncode == 1
    broken = result.stdout.split("Broken contracts", 1)[-1]
    assert contract in " ".join(broken.split()), result.stdout
