"""The engine with the real airflow backend on a copy of environments/dev: apply, idempotence,
a hand-edited DAG file as drift that the next run corrects, and prune of a removed job only."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from reconciler import engine
from reconciler.model import Action
from tests.conftest import run_reconcile, with_second_airflow_job

DAGS = Path(".salam/airflow/dev/dags")
OURS = "salam_dev_invoices.py"
SECOND = "salam_dev_invoices_eu.py"


@pytest.fixture
def root(project: Callable[..., Path]) -> Path:
    """dev, with a second airflow job so that pruning one is not pruning all."""
    return with_second_airflow_job(project("dev"))


def folder(root: Path) -> Path:
    return root / DAGS


def options(root: Path) -> engine.ReconcileOptions:
    return engine.ReconcileOptions(root=root, env="dev", backends=("airflow",))


def apply(root: Path) -> engine.ApplyOutcome:
    with engine.prepare(options(root), for_apply=True) as current:
        return engine.apply(current)


def pending(root: Path) -> list[tuple[Action, str]]:
    with engine.prepare(options(root)) as current:
        return [(c.action, c.key.name) for c in current.change_set.pending()]


def test_apply_then_no_changes(root: Path) -> None:
    assert pending(root) == [(Action.CREATE, OURS), (Action.CREATE, SECOND)]
    outcome = apply(root)
    assert outcome.status == "applied", outcome
    assert sorted(p.name for p in folder(root).iterdir()) == [OURS, SECOND]
    first = (folder(root) / OURS).read_text().split("\n", 1)[0]
    assert first.startswith("# salam: managed env=dev job=invoices digest=")
    assert pending(root) == []


def test_hand_edited_dag_is_drift_and_is_corrected(root: Path) -> None:
    apply(root)
    path = folder(root) / OURS
    original = path.read_text()
    path.write_text(original.replace("schedule='0 2 * * *'", "schedule='@hourly'"))
    with engine.prepare(options(root)) as current:
        (change,) = current.change_set.pending()
        fields = {f.path: (f.before, f.after) for f in change.fields}
    assert change.action is Action.UPDATE
    assert fields["dag.schedule"] == ("@hourly", "0 2 * * *")
    code, output = reconcile(root, "--dry-run", "--exit-code")
    assert code == 4, output
    assert 'dag.schedule: "@hourly" -> "0 2 * * *"' in output
    assert apply(root).status == "applied"
    assert path.read_text() == original
    assert pending(root) == []


def test_prune_deletes_the_removed_jobs_file_only(root: Path) -> None:
    apply(root)
    dags = folder(root)
    (dags / "team_dag.py").write_text("# not Salam's\n")
    foreign = (dags / OURS).read_text().replace("env=dev", "env=uat", 1)
    (dags / "salam_uat_invoices.py").write_text(foreign)
    (root / "environments" / "dev" / "jobs" / "invoices_eu.yaml").unlink()
    assert pending(root) == [(Action.DELETE, SECOND)]
    assert apply(root).status == "applied"
    assert sorted(p.name for p in dags.iterdir()) == [OURS, "salam_uat_invoices.py", "team_dag.py"]
    assert (dags / "salam_uat_invoices.py").read_text() == foreign


def test_unmarked_file_in_the_way_blocks_the_apply(root: Path) -> None:
    dags = folder(root)
    dags.mkdir(parents=True)
    (dags / OURS).write_text("# someone else's DAG\n")
    with engine.prepare(options(root), for_apply=True) as current:
        assert [str(r.key) for r in current.change_set.conflicts] == [
            f"airflow/.salam/airflow/dev/dags/{OURS}"
        ]
        with pytest.raises(engine.EngineError, match="not managed by Salam"):
            engine.apply(current)
    assert (dags / OURS).read_text() == "# someone else's DAG\n"


def reconcile(root: Path, *args: str) -> tuple[int, str]:
    result = run_reconcile("--env", "dev", "--backend", "airflow", "--root", str(root), *args)
    return result.exit_code, result.output
