"""Load a folder of DAG files with Airflow's own DagBag and print what it built, as JSON.

Run by the Airflow virtualenv's python (``.venv-airflow``, made by ``scripts/setup.sh
airflow``), never imported by the test suite itself: it imports nothing of Salam's. Prints
``{"import_errors": {file: message}, "warnings": [...], "dags": {dag_id: {...}}}``.
"""

from __future__ import annotations

import json
import sys
import warnings


def describe(dag: object) -> dict[str, object]:
    args = dag.default_args  # type: ignore[attr-defined]
    tasks = dag.tasks  # type: ignore[attr-defined]
    return {
        "fileloc": dag.fileloc,  # type: ignore[attr-defined]
        "schedule": str(dag.timetable.expression),  # type: ignore[attr-defined]
        "timezone": str(dag.timezone),  # type: ignore[attr-defined]
        "catchup": bool(dag.catchup),  # type: ignore[attr-defined]
        "tags": sorted(dag.tags),  # type: ignore[attr-defined]
        "owner": args.get("owner"),
        "retries": args.get("retries"),
        "retry_delay_seconds": args["retry_delay"].total_seconds()
        if "retry_delay" in args
        else None,
        "email": list(args.get("email") or []),
        "email_on_failure": args.get("email_on_failure"),
        "tasks": [
            {"task_id": t.task_id, "operator": type(t).__name__, "bash_command": t.bash_command}
            for t in tasks
        ],
    }


def load(folder: str) -> dict[str, object]:
    from airflow.models import DagBag

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        bag = DagBag(folder)  # Airflow 3.3 has no include_examples: the env var says it
    return {
        "import_errors": {str(k): str(v) for k, v in bag.import_errors.items()},
        "warnings": [f"{w.filename}:{w.lineno}: {w.message}" for w in caught],
        "dags": {dag_id: describe(dag) for dag_id, dag in bag.dags.items()},
    }


def main(folders: list[str]) -> None:
    import airflow

    out = {"airflow": airflow.__version__, "folders": {f: load(f) for f in folders}}
    print(json.dumps(out, default=str))


if __name__ == "__main__":
    main(sys.argv[1:])
