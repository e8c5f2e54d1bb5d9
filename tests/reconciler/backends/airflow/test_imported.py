"""What ``reconcile import --from airflow`` reads from a hand-written DAG file: the job's
``external`` block (file name, DAG id, cron, zone, retries, e-mails) and the command, or the
reason it cannot write one — never a guess."""

from __future__ import annotations

import pytest

from reconciler.backends.airflow import imported
from reconciler.model import ResourceKey

KEY = ResourceKey("airflow", "dags", "ingest_orders.py")


def dag(
    schedule: str = "'15 3 * * *'", delay: str = "timedelta(hours=1, minutes=30)", **more: str
) -> str:
    extra = "".join(f"    {name}={value},\n" for name, value in more.items())
    return (
        "with DAG(\n"
        "    dag_id='ingest_orders',\n"
        f"    schedule={schedule},\n"
        "    start_date=pendulum.datetime(2023, 1, 1, tz='Asia/Kolkata'),\n"
        f"    default_args={{'retries': 4, 'retry_delay': {delay}, 'email': ['a@example.com']}},\n"
        f"{extra}"
        ") as dag:\n"
        "    BashOperator(task_id='t', bash_command='{% raw %}cd /srv && ingest run --config "
        "environments/dev/jobs/orders.yaml{% endraw %} ')\n"
    )


def test_a_hand_written_dag_becomes_an_external_block() -> None:
    found = imported.unmanaged(KEY, dag())
    assert not found.problem
    assert found.orchestration == {
        "mode": "airflow",
        "external": {
            "provider": "airflow",
            "dag_id": "ingest_orders",
            "dag_file": "ingest_orders.py",
            "expression": "15 3 * * *",
            "timezone": "Asia/Kolkata",
            "retries": {"count": 4, "delay_minutes": 90},
            "alerts": {"email": ["a@example.com"]},
        },
    }
    assert found.command_line == "cd /srv && ingest run --config environments/dev/jobs/orders.yaml"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (dag(schedule="'@daily'"), "its schedule '@daily' is not five cron fields"),
        (dag(schedule="None"), "its schedule None is not five cron fields"),
        (dag(schedule="CRON"), "its schedule is not literal"),
        (dag(delay="timedelta(seconds=90)"), "its retry delay 90 s is not whole minutes"),
        (dag(catchup="True"), "it catches up (catchup=True)"),
        ("x = 1\n", "expected one DAG with one BashOperator, found 0 DAG(s)"),
        ("def (:\n", "not valid Python: line 1"),
    ],
)
def test_what_cannot_be_written_as_a_job_is_reported(text: str, reason: str) -> None:
    found = imported.unmanaged(KEY, text)
    assert found.problem.startswith(reason) and not found.orchestration
