"""One job edited among the generated 1,000 (tests/scale_environment.py), in the process that just
applied them, warm caches and all: the dry-run shows exactly that job's change, and validate
exactly its new finding. Nothing memoised (the compiled policies, the cron checks, the secret
scan's pre-selection) may make a changed file look unchanged."""

from __future__ import annotations

from pathlib import Path

from ingestion.config import loader
from ingestion.plan import environment as plans
from reconciler import engine, policy
from reconciler.backends import registry
from reconciler.model import Action
from tests import scale_environment

JOBS = 1000


def test_one_edited_job_is_exactly_the_change(tmp_path: Path) -> None:
    root = scale_environment.make_project(tmp_path, JOBS)
    registry.load_all()
    options = engine.ReconcileOptions(root=root, env=scale_environment.ENV, backends=("crontab",))
    with engine.prepare(options, for_apply=True) as current:
        assert len(current.change_set.pending()) == JOBS
        engine.apply(current)
    edited = scale_environment.job_name(421)
    path = root / "environments" / scale_environment.ENV / "jobs" / f"{edited}.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('expression: "1 * * * *"', 'expression: "2 * * * *"'))
    with engine.prepare(options) as current:
        pending = current.change_set.pending()
    assert [(c.job, c.action) for c in pending] == [(edited, Action.UPDATE)]

    before = _findings(root)
    path.write_text(
        path.read_text(encoding="utf-8").replace("owner: bss-data-platform", "owner: x")
    )
    after = _findings(root)
    assert [f for f in after if f not in before] == [("SALAM-OWNER-UNKNOWN", f"{edited}.yaml")]
    assert [f for f in before if f not in after] == []


def _findings(root: Path) -> list[tuple[str, str]]:
    environment = loader.load_environment(root, scale_environment.ENV, [])
    report = policy.check(environment, plans.render_all(environment, with_git=False))
    return [(d.code, Path(d.location.file).name) for d in report.diagnostics]
