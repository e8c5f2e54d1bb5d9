"""promtool (Debian's ``prometheus`` package) as the tests' oracle for metrics and rules.

``scripts/setup.sh promtool`` unpacks it into ``.tools/promtool`` (no service installed); a
``promtool`` on ``PATH`` is used first. The session fixture ``promtool`` (tests/conftest.py)
runs that set-up step once when neither exists, so a fresh machine needs nothing by hand.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.conftest import ROOT

LOCAL = ROOT / ".tools" / "promtool"


def find() -> Path | None:
    on_path = shutil.which("promtool")
    if on_path:
        return Path(on_path)
    return LOCAL if LOCAL.is_file() else None


def ensure() -> Path:
    """promtool's path, fetched by the project's set-up script when missing."""
    found = find()
    if found is None:
        subprocess.run(["bash", str(ROOT / "scripts/setup.sh"), "promtool"], check=True)
        found = LOCAL
    return found


def run(promtool: Path, *args: str, stdin: str | None = None, cwd: Path | None = None) -> None:
    """Run ``promtool ARGS``; an assertion with its output when it does not accept."""
    done = subprocess.run(
        [str(promtool), *args], input=stdin, cwd=cwd, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, f"promtool {' '.join(args)}:\n{done.stdout}{done.stderr}"


def check_metrics(promtool: Path, text: str) -> None:
    """``promtool check metrics`` (lint included) accepts the exposition ``text``."""
    run(promtool, "check", "metrics", stdin=text)
