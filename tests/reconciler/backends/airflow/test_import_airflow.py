"""``reconcile import --from airflow`` on the DAGs folder of a copy of dev, judged by Airflow's own
DagBag: a hand-written DAG file that runs a job's config round-trips — import (the dry-run writes
nothing) → the result validates → a dry-run shows only the adopt → apply → in sync — and Airflow
loads the same DAG from the same file afterwards (same DAG id, schedule, zone, retries; Salam's
command), no second file beside it; a DAG that runs something else, or is not one DAG with one
task, is reported, never guessed. Without ``adopt`` the file is a conflict; an adopt that would
rename the DAG is refused; an adopt rolled back gives the file back byte for byte."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import run_reconcile
from tests.reconciler.backends.airflow import oracle

pytestmark = pytest.mark.integration
DAGS = Path(".salam/airflow/dev/dags")
JOB = Path("environments/dev/jobs/invoices.yaml")
KEY = f"airflow/{DAGS}/ingest_invoices.py"
HAND_DAG = '''\
"""Invoices, loaded every night since 2023 (written by hand)."""

from datetime import timedelta

import pendulum
from airflow import DAG
from airflow.providers.standard.operators.bash import BashOperator

with DAG(
    dag_id="{dag_id}",
    schedule="30 1 * * *",
    start_date=pendulum.datetime(2023, 1, 1, tz="Europe/London"),
    catchup=False,
    default_args={{"owner": "billing", "retries": 2, "retry_delay": timedelta(minutes=5)}},
    tags=["billing"],
) as dag:
    BashOperator(
        task_id="load",
        bash_command="cd {root} && python -m ingestion run --config {config} >> /tmp/inv.log 2>&1",
    )
'''
OTHER_DAG = """\
from datetime import datetime

from airflow import DAG
from airflow.providers.standard.operators.bash import BashOperator

with DAG(dag_id="vacuum", schedule="0 4 * * 0", start_date=datetime(2024, 1, 1)) as dag:
    BashOperator(task_id="vacuum", bash_command="/usr/local/bin/vacuum.sh --all ")
"""
HELPER = "LAKE = 's3://lake'\n"


def cli(root: Path, *args: str) -> tuple[int, str]:
    result = run_reconcile(*args, "--env", "dev", "--root", str(root))
    return result.exit_code, result.output


@pytest.fixture
def team(project: Callable[..., Path]) -> Path:
    """A copy of dev whose DAGs folder holds the team's own files: invoices' DAG, another DAG
    and a helper module."""
    root = project("dev")
    (root / DAGS).mkdir(parents=True)
    dag = HAND_DAG.format(dag_id="ingest_invoices", root=root, config=JOB)
    (root / DAGS / "ingest_invoices.py").write_text(dag)
    (root / DAGS / "vacuum.py").write_text(OTHER_DAG)
    (root / DAGS / "lake_paths.py").write_text(HELPER)
    return root


def test_import_round_trips_a_hand_written_dag(team: Path, tmp_path: Path) -> None:
    before = oracle.dagbags([team / DAGS], tmp_path / "airflow-before")[str(team / DAGS)]
    assert not before["import_errors"] and set(before["dags"]) == {"ingest_invoices", "vacuum"}
    config = (team / JOB).read_text()

    code, output = cli(team, "import", "--from", "airflow", "--dry-run")
    assert code == 0, output
    assert f"~ {JOB}  (job invoices: runtime from {KEY})" in output
    assert "lake_paths.py: not imported: expected one DAG with one BashOperator" in output
    assert "vacuum.py: not imported: `vacuum.sh` is not spark-submit" in output
    assert (team / JOB).read_text() == config  # a dry run writes nothing

    code, output = cli(team, "import", "--from", "airflow", "--output", "json")
    assert code == 0, output
    assert [w["path"] for w in json.loads(output)["written"]] == [str(JOB)]
    written = (team / JOB).read_text()
    assert written.startswith(config[: config.index("runtime:")])  # the rest byte for byte
    for line in ("dag_file: ingest_invoices.py", "expression: 30 1 * * *", "delay_minutes: 5"):
        assert line in written
    assert cli(team, "validate")[0] == 0

    code, output = cli(team, "--backend", "airflow", "--dry-run", "--output", "json")
    assert code == 0, output
    changes = json.loads(output)["change_set"]["changes"]
    assert [(c["action"], c["key"]) for c in changes] == [("adopt", KEY)]
    code, output = cli(team, "--backend", "airflow")
    assert code == 0 and f"<= {KEY}: adopted" in output, output
    assert sorted(p.name for p in (team / DAGS).glob("*.py")) == [
        "ingest_invoices.py",
        "lake_paths.py",
        "vacuum.py",
    ]  # taken over in place: no salam_dev_invoices.py beside it
    code, output = cli(team, "--backend", "airflow", "--dry-run", "--exit-code")
    assert code == 0 and "in sync" in output, output

    after = oracle.dagbags([team / DAGS], tmp_path / "airflow-after")[str(team / DAGS)]
    assert not after["import_errors"] and set(after["dags"]) == {"ingest_invoices", "vacuum"}
    old, new = before["dags"]["ingest_invoices"], after["dags"]["ingest_invoices"]
    same = ("fileloc", "schedule", "timezone", "catchup", "retries", "retry_delay_seconds")
    assert {k: new[k] for k in same} == {k: old[k] for k in same}
    assert old["timezone"] == "Europe/London" and old["retry_delay_seconds"] == 300
    [task] = new["tasks"]
    assert f"--config {JOB}" in task["bash_command"] and task["operator"] == "BashOperator"


def test_without_adopt_the_file_is_a_conflict_and_never_touched(team: Path) -> None:
    assert cli(team, "import", "--from", "airflow")[0] == 0
    job = (team / JOB).read_text()
    (team / JOB).write_text(job.replace("    adopt: true\n", ""))
    dag = (team / DAGS / "ingest_invoices.py").read_text()
    code, output = cli(team, "--backend", "airflow", "--dry-run", "--exit-code")
    assert code == 4 and f"! {KEY}  (conflict, job invoices)" in output, output
    assert cli(team, "--backend", "airflow")[0] == 1
    assert (team / DAGS / "ingest_invoices.py").read_text() == dag


def test_an_adopt_renaming_the_dag_is_refused(team: Path) -> None:
    assert cli(team, "import", "--from", "airflow")[0] == 0
    job = (team / JOB).read_text()
    (team / JOB).write_text(job.replace("dag_id: ingest_invoices", "dag_id: invoices_v2"))
    dag = (team / DAGS / "ingest_invoices.py").read_text()
    code, output = cli(team, "--backend", "airflow")
    assert code == 1, output
    assert "would make Airflow see a new DAG" in output
    assert "hint: set external.dag_id: ingest_invoices in job 'invoices'" in output
    assert (team / DAGS / "ingest_invoices.py").read_text() == dag


def test_an_adopt_rolled_back_gives_the_file_back_byte_for_byte(team: Path) -> None:
    assert cli(team, "import", "--from", "airflow")[0] == 0
    assert cli(team, "--backend", "export")[0] == 0
    [first, *_] = sorted((team / ".salam/export/dev").iterdir())
    first.unlink()
    first.mkdir()  # where its file goes back, a directory: that write fails, after the adopt
    dag = (team / DAGS / "ingest_invoices.py").read_text()

    code, output = cli(team, "--backend", "airflow", "--backend", "export")

    assert code == 1, output
    assert f"<= {KEY}: adopted" in output
    assert f"=> {KEY}: given back as it was before the adopt, not Salam's" in output
    assert (team / DAGS / "ingest_invoices.py").read_text() == dag
