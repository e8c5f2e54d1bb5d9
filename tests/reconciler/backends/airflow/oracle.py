"""Airflow itself as the judge of Salam's DAG files: its ``DagBag`` in its own virtualenv.

``scripts/setup.sh airflow`` (run by ``scripts/test.sh``, so by CI) installs a pinned Airflow 3
into ``.venv-airflow``, apart from Salam's environment (Airflow's dependency pins would fight
Salam's). :func:`dagbags` runs :mod:`dagbag_probe` there on folders and returns what Airflow
built in each. Without that virtualenv the test is skipped with the command to make it —
except in CI, where a missing oracle is a failure, never a silent skip.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT

PYTHON = ROOT / ".venv-airflow" / "bin" / "python"
PROBE = Path(__file__).with_name("dagbag_probe.py")
TIMEOUT_SECONDS = 300


def dagbags(folders: list[Path], home: Path) -> dict[str, Any]:
    """What Airflow's DagBag loads from each folder (``home`` becomes AIRFLOW_HOME)."""
    if not PYTHON.exists():
        reason = f"Airflow's virtualenv is missing ({PYTHON}): bash scripts/setup.sh airflow"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    home.mkdir(parents=True, exist_ok=True)
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(home), "AIRFLOW_HOME": str(home)}
    env["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    done = subprocess.run(
        [str(PYTHON), str(PROBE), *map(str, folders)],
        capture_output=True,
        text=True,
        env=env,
        timeout=TIMEOUT_SECONDS,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return dict(json.loads(done.stdout.strip().splitlines()[-1])["folders"])
