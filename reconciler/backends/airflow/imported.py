"""A DAG file Salam does not own, as ``reconcile import`` reads it: the job config's
``runtime.orchestration`` that renders the same DAG, and the command its task runs.

The backend's ``unmanaged`` calls :func:`unmanaged` with each unmarked file of the DAGs folder.
The file is read with :mod:`ast` (:func:`~reconciler.backends.airflow.dagfile.describe`, no
import of Airflow); its name becomes the job's ``dag_file`` and its DAG id the job's ``dag_id``
(so the job's DAG file is this one, to adopt in place: Airflow keeps the DAG's runs and pause
state, which it keys by DAG id). Schedule, time zone, retries, retry delay and e-mails are carried
over, the e-mails and retries even when empty (a job-wide ``alerts`` or ``retries`` would
otherwise add to the DAG). A file that does not define one DAG with one BashOperator, whose values
are not literals, whose schedule is not five cron fields, which catches up, or whose retry delay
is not whole minutes is returned with its ``problem``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from reconciler.backends.airflow import dagfile
from reconciler.backends.base import Unmanaged
from reconciler.model import ResourceKey

_RAW = ("{% raw %}", "{% endraw %}")
_FIELDS = ("dag_id", "schedule", "timezone", "retries", "retry_delay_seconds", "email", "command")


def unmanaged(key: ResourceKey, text: str) -> Unmanaged:
    dag = dagfile.describe(text)
    problem = next(_problems(dag), "")
    if problem:
        return Unmanaged(key, problem=problem)
    command = str(dag["command"])
    if command.startswith(_RAW[0]) and command.rstrip().endswith(_RAW[1]):
        command = command.rstrip()[len(_RAW[0]) : -len(_RAW[1])]
    external = {
        "provider": "airflow",
        "dag_id": dag["dag_id"],
        "dag_file": key.name,
        "expression": dag["schedule"],
        "timezone": dag["timezone"] or "UTC",
        "retries": {
            "count": int(dag["retries"] or 0),
            "delay_minutes": int(dag["retry_delay_seconds"] or 0) // 60,
        },
        "alerts": {"email": list(dag["email"] or [])},
    }
    return Unmanaged(key, {"mode": "airflow", "external": external}, command_line=command)


def _problems(dag: Mapping[str, Any]) -> Iterator[str]:
    """Why the DAG cannot be written as a job's ``external`` block, the first reason first."""
    if "error" in dag:
        yield str(dag["error"])
        return
    unread = [name for name in _FIELDS if str(dag.get(name)).startswith("<expression:")]
    if unread:
        yield f"its {', '.join(unread)} {'is' if len(unread) == 1 else 'are'} not literal"
    schedule = dag.get("schedule")
    if not isinstance(schedule, str) or len(schedule.split()) != 5:
        yield f"its schedule {schedule!r} is not five cron fields: write it as a cron expression"
    if dag.get("catchup"):
        yield "it catches up (catchup=True), which Salam's DAGs never do: set catchup=False"
    delay = dag.get("retry_delay_seconds")
    if delay is not None and (not isinstance(delay, int | float) or delay % 60):
        yield f"its retry delay {delay!r} s is not whole minutes"
    if not isinstance(dag.get("command"), str):
        yield "its BashOperator has no bash_command string"
