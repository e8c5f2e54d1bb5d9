"""Every generated DAG file is valid Python that defines exactly the expected DAG.

Checked three ways: an independent ``ast`` reading (:func:`conftest.dag_call`), running the file
against stand-ins for ``airflow`` and ``pendulum`` that record what it builds, and loading every
file with Airflow's own ``DagBag`` in Airflow's virtualenv (:mod:`oracle`).
"""

from __future__ import annotations

import shlex
import sys
import types
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from ingestion.config import loader
from ingestion.plan.environment import render_all
from reconciler.backends.airflow import dagfile
from tests.conftest import ROOT
from tests.reconciler.backends.airflow import oracle
from tests.reconciler.backends.airflow.conftest import Harness, dag_call, plan

ENVIRONMENTS = ("dev", "uat", "prod")


def real_plans() -> list[dict[str, Any]]:
    found = []
    for env in ENVIRONMENTS:
        plans = render_all(loader.load_environment(ROOT, env, []), with_git=False)
        found += [p for p in plans.values() if p["mode"] == "airflow"]
    return found


SYNTHETIC = [
    plan(),
    plan("late", schedule={"cron": "15 23 * * 1-5", "timezone": "Asia/Kolkata"}),
    plan("quiet", alerts={"email": [], "webhook": None}, retries={"count": 0, "delay_seconds": 1}),
    plan("nodag", external={"provider": "airflow", "dag_id": None}),
    plan(
        "quoting",
        execution_command=["sh", "-c", "echo 'it''s' \"$HOME\" `x` \\ {{ ds }}\n done"],
    ),
    plan("uatjob", env="uat"),
    plan("script", execution_command=["bash", "/opt/run.sh"]),
]


def expected(p: Mapping[str, Any], workdir: str) -> dict[str, Any]:
    email = list(p["alerts"]["email"])
    return {
        "dag_id": p["external"]["dag_id"] or p["schedule_id"],
        "schedule": p["schedule"]["cron"],
        "timezone": p["schedule"]["timezone"],
        "catchup": False,
        "tags": ["salam", p["environment"]],
        "default_args": {
            "owner": p["owner"],
            "retries": p["retries"]["count"],
            "retry_delay_seconds": p["retries"]["delay_seconds"],
            "email": email,
            "email_on_failure": bool(email),
            "email_on_retry": False,
        },
        "task": {"task_id": "ingest", "bash_command": bash_command(p, workdir)},
    }


def bash_command(p: Mapping[str, Any], workdir: str) -> str:
    line = f"cd {shlex.quote(workdir)} && {shlex.join(p['execution_command'])}"
    if "{{" in line:  # Airflow would render it as Jinja: the raw block keeps it literal
        line = "{% raw %}" + line + "{% endraw %}"
    return line + (" " if line.endswith(".sh") else "")


def all_files(harness: Callable[..., Harness]) -> Iterator[tuple[dict[str, Any], str, str]]:
    """(plan, workdir, whole file text) for every real and synthetic airflow plan."""
    for p in real_plans() + SYNTHETIC:
        h = harness(p["environment"])
        resource = h.backend.render(p)
        text = h.backend.compose(resource.job, resource.spec, resource.meta)
        yield p, h.backend.workdir, text


def test_real_environments_have_airflow_jobs() -> None:
    assert {p["environment"] for p in real_plans()} == set(ENVIRONMENTS)


def test_every_dag_file_parses_to_exactly_the_expected_dag(
    harness: Callable[..., Harness],
) -> None:
    count = 0
    for p, workdir, text in all_files(harness):
        compile(text, "dag.py", "exec")
        assert dag_call(text) == expected(p, workdir), p["job"]
        run = dag_call(text)["task"]["bash_command"]
        run = run.removeprefix("{% raw %}").removesuffix("{% endraw %}")
        assert shlex.split(run) == ["cd", workdir, "&&", *p["execution_command"]]
        count += 1
    assert count == len(real_plans()) + len(SYNTHETIC)


def test_marker_is_first_line_and_names_env_job_digest_revision(
    harness: Callable[..., Harness],
) -> None:
    h = harness()
    resource = h.backend.render(plan())
    text = h.backend.compose(resource.job, resource.spec, resource.meta)
    first = text.split("\n", 1)[0]
    assert (
        first == "# salam: managed env=dev job=invoices digest=0123456789ab revision=e50c42a4b8b3"
    )
    marker = dagfile.parse_marker(text)
    assert marker is not None and (marker.env, marker.job) == ("dev", "invoices")
    assert resource.key.name == "salam_dev_invoices.py"
    assert resource.key.scope == ".salam/airflow/dev/dags"


def test_backend_description_matches_the_file(harness: Callable[..., Harness]) -> None:
    for p, workdir, text in all_files(harness):
        described = dagfile.describe(dagfile.split(text)[1])
        want = expected(p, workdir)
        assert described["dag_id"] == want["dag_id"]
        assert described["schedule"] == want["schedule"]
        assert described["timezone"] == want["timezone"]
        assert described["retries"] == want["default_args"]["retries"]
        assert described["retry_delay_seconds"] == want["default_args"]["retry_delay_seconds"]
        assert described["command"] == want["task"]["bash_command"]


class Recorder:
    """Stand-ins for Airflow's DAG and BashOperator, and pendulum.datetime."""

    def __init__(self) -> None:
        self.dags: list[dict[str, Any]] = []
        self.tasks: list[dict[str, Any]] = []
        recorder = self

        class DAG:
            def __init__(self, **kwargs: Any) -> None:
                recorder.dags.append(kwargs)

            def __enter__(self) -> DAG:
                return self

            def __exit__(self, *exc: object) -> None:
                return None

        def bash_operator(**kwargs: Any) -> None:
            recorder.tasks.append(kwargs)

        def datetime(*args: int, tz: str) -> tuple[tuple[int, ...], str]:
            return args, tz

        airflow = types.ModuleType("airflow")
        airflow.DAG = DAG  # type: ignore[attr-defined]
        operators = types.ModuleType("airflow.operators")
        bash = types.ModuleType("airflow.operators.bash")
        bash.BashOperator = bash_operator  # type: ignore[attr-defined]
        pendulum = types.ModuleType("pendulum")
        pendulum.datetime = datetime  # type: ignore[attr-defined]
        self.modules = {
            "airflow": airflow,
            "airflow.operators": operators,
            "airflow.operators.bash": bash,
            "pendulum": pendulum,
        }


def test_every_dag_file_runs_and_builds_one_dag_with_one_task(
    harness: Callable[..., Harness], monkeypatch: pytest.MonkeyPatch
) -> None:
    for p, workdir, text in all_files(harness):
        recorder = Recorder()
        for name, module in recorder.modules.items():
            monkeypatch.setitem(sys.modules, name, module)
        exec(compile(text, "dag.py", "exec"), {"__name__": "salam_dag"})
        assert len(recorder.dags) == 1 and len(recorder.tasks) == 1
        built, want = recorder.dags[0], expected(p, workdir)
        assert built["dag_id"] == want["dag_id"]
        assert built["schedule"] == want["schedule"]
        assert built["start_date"][1] == want["timezone"]
        assert built["default_args"]["retries"] == want["default_args"]["retries"]
        delay = built["default_args"]["retry_delay"].total_seconds()
        assert delay == want["default_args"]["retry_delay_seconds"]
        assert recorder.tasks[0]["bash_command"] == want["task"]["bash_command"]


def test_airflow_dagbag_loads_every_dag_file_as_the_plan_says(
    harness: Callable[..., Harness], tmp_path: Path
) -> None:
    """The external oracle: Airflow's own DagBag, in its own virtualenv, builds each DAG."""
    wanted = {}
    for index, (p, workdir, text) in enumerate(all_files(harness)):
        folder = tmp_path / "dags" / str(index)  # one folder each: environments share DAG ids
        folder.mkdir(parents=True)
        (folder / "dag.py").write_text(text)
        wanted[str(folder)] = expected(p, workdir)
    bags = oracle.dagbags([Path(f) for f in wanted], tmp_path / "airflow-home")
    assert set(bags) == set(wanted)
    for folder, bag in bags.items():
        want = wanted[folder]
        assert bag["import_errors"] == {}
        assert [w for w in bag["warnings"] if folder in w] == []  # no deprecated import
        assert list(bag["dags"]) == [want["dag_id"]]
        built = bag["dags"][want["dag_id"]]
        assert (built["schedule"], built["timezone"]) == (want["schedule"], want["timezone"])
        assert built["catchup"] is False and built["tags"] == sorted(want["tags"])
        args = want["default_args"]
        assert (built["owner"], built["retries"]) == (args["owner"], args["retries"])
        assert built["retry_delay_seconds"] == args["retry_delay_seconds"]
        assert (built["email"], built["email_on_failure"]) == (args["email"], bool(args["email"]))
        task = {"task_id": "ingest", "operator": "BashOperator"}
        assert built["tasks"] == [{**task, "bash_command": want["task"]["bash_command"]}]


def test_describe_never_fails_on_broken_files() -> None:
    assert dagfile.describe("def (:")["error"].startswith("not valid Python: line 1")
    assert "found 0 DAG(s)" in dagfile.describe("x = 1\n")["error"]
    described = dagfile.describe("DAG(dag_id=name, schedule='@daily')\nBashOperator()\n")
    assert described["dag_id"] == "<expression: name>"
    assert described["schedule"] == "@daily"
    assert described["retries"] is None


def test_file_name_is_sanitised_or_the_jobs_own() -> None:
    assert dagfile.file_name(plan("a-b.c"), "dev") == "salam_dev_a_b_c.py"
    own = plan("a-b.c", external={"provider": "airflow", "dag_file": "ingest_abc.py"})
    assert dagfile.file_name(own, "dev") == "ingest_abc.py"
