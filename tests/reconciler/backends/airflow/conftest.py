"""Fixtures for the airflow backend: environments, plans, and an independent DAG reader.

:func:`dag_call` reads a generated DAG file with :mod:`ast` on its own terms (it does not use
the backend's parser), so the tests check the file, not the backend against itself.
"""

from __future__ import annotations

import ast
import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ingestion.config.loader import Environment
from reconciler.backends.airflow import AirflowBackend
from tests.reconciler.backends import folder_harness

DIGEST = "0123456789abcdef" * 4
REVISION = "e50c42a4b8b3e6bbbc7fe54793750499dd9e1ebe"
DAGS = ".salam/airflow/dev/dags"


def environment(root: Path, name: str = "dev", **settings: Any) -> Environment:
    values = {"environment": name, "workdir": ".", "airflow": {"dags_folder": DAGS}, **settings}
    return Environment(name, root, values, ())


def plan(job: str = "invoices", env: str = "dev", **extra: Any) -> dict[str, Any]:
    """An ``airflow`` plan shaped like ``ingest plan`` prints one."""
    base: dict[str, Any] = {
        "job": job,
        "environment": env,
        "mode": "airflow",
        "owner": "billing-analytics",
        "schedule_id": f"ingest_{job}",
        "schedule": {"cron": "0 2 * * *", "timezone": "UTC"},
        "retries": {"count": 3, "delay_seconds": 600},
        "alerts": {"email": ["billing-analytics@example.com"], "webhook": None},
        "external": {"provider": "airflow", "dag_id": f"ingest_{job}"},
        "execution_command": [
            ".venv/bin/spark-submit",
            "--master",
            "local[*]",
            "ingestion/entrypoints/spark_submit.py",
            "run",
            "--config",
            f"environments/{env}/jobs/{job}.yaml",
        ],
        "bookkeeping": {
            "digest": DIGEST,
            "git_revision": REVISION,
            "git_dirty": False,
            "environment": env,
            "job": job,
        },
    }
    for key, value in extra.items():
        base[key] = copy.deepcopy(value)
    return base


Harness = folder_harness.Harness[AirflowBackend]


@pytest.fixture
def harness(tmp_path: Path) -> Callable[..., Harness]:
    def make(name: str = "dev", **settings: Any) -> Harness:
        backend = AirflowBackend(environment(tmp_path, name, **settings))
        return Harness(tmp_path, backend, tmp_path / DAGS)

    return make


IMPORTS = (ast.Import, ast.ImportFrom)


def dag_call(source: str) -> dict[str, Any]:
    """The one ``DAG(...)`` and one ``BashOperator(...)`` a DAG file makes, as literals.

    Fails the test unless the module imports only ``datetime``, ``pendulum`` and Airflow's
    ``DAG`` / ``BashOperator`` (from the standard provider, Airflow 2's module as the
    fallback), and makes exactly one of each call.
    """
    tree = ast.parse(source)
    imports = sorted(ast.unparse(node) for node in ast.walk(tree) if isinstance(node, IMPORTS))
    assert imports == [
        "from __future__ import annotations",
        "from airflow import DAG",
        "from airflow.operators.bash import BashOperator",
        "from airflow.providers.standard.operators.bash import BashOperator",
        "import datetime",
        "import pendulum",
    ]
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)]
    dags = [c for c in calls if isinstance(c.func, ast.Name) and c.func.id == "DAG"]
    tasks = [c for c in calls if isinstance(c.func, ast.Name) and c.func.id == "BashOperator"]
    assert len(dags) == 1 and len(tasks) == 1
    assert not dags[0].args and not tasks[0].args
    dag = {k.arg: k.value for k in dags[0].keywords}
    start = dag.pop("start_date")
    assert isinstance(start, ast.Call) and ast.unparse(start.func) == "pendulum.datetime"
    defaults = dag.pop("default_args")
    assert isinstance(defaults, ast.Dict)
    args: dict[str, Any] = {}
    for key, value in zip(defaults.keys, defaults.values, strict=True):
        assert isinstance(key, ast.Constant) and isinstance(key.value, str)
        if key.value == "retry_delay":
            assert isinstance(value, ast.Call)
            assert ast.unparse(value.func) == "datetime.timedelta"
            args["retry_delay_seconds"] = ast.literal_eval(value.keywords[0].value)
        else:
            args[key.value] = ast.literal_eval(value)
    found = {str(k): ast.literal_eval(v) for k, v in dag.items()}
    found["timezone"] = ast.literal_eval(next(k.value for k in start.keywords if k.arg == "tz"))
    found["default_args"] = args
    found["task"] = {str(k.arg): ast.literal_eval(k.value) for k in tasks[0].keywords}
    return found
