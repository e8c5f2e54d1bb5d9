"""``reconcile --dry-run --changed-since REV`` on the in-memory backend: only the jobs whose files a
change touched are diffed (so drift elsewhere is not shown), a deleted job's schedule shows as
its deletion, an environment-wide change selects every job, and misuse is a clear error."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from reconciler.backends.memory import Store
from tests.conftest import run_reconcile
from tests.reconciler.gitops.conftest import commit, edit, git


def _keys(root: Path, *args: str) -> dict[str, str]:
    """The change set of a dry-run: resource name → action."""
    result = run_reconcile(
        "--env", "dev", "--root", str(root), "--dry-run", "--output", "json", *args
    )
    assert result.exit_code == 0, result.stdout + result.stderr
    changes = json.loads(result.stdout)["change_set"]["changes"]
    return {c["key"].rsplit("/", 1)[-1]: c["action"] for c in changes}


def _applied(store: Store, repo: Callable[..., Path]) -> tuple[Path, str]:
    """dev applied and in sync, and the commit it was applied from."""
    root = repo("dev")
    assert run_reconcile("--env", "dev", "--root", str(root)).exit_code == 0
    return root, git(root, "rev-parse", "HEAD")


def test_only_the_jobs_a_change_touched_are_diffed(store: Store, repo: Callable[..., Path]) -> None:
    root, base = _applied(store, repo)
    [invoices] = [k for k in store.resources if k.name.endswith("invoices")]
    drifted = {**store.resources[invoices].spec, "schedule": {"cron": "1 1 * * *"}}
    store.resources[invoices] = replace(store.resources[invoices], spec=drifted)  # not the change's
    edit(root, "dev", "payments", '"30 3 * * *"', '"45 3 * * *"')
    commit(root, "B: payments later")

    assert _keys(root) == {"salam-dev-payments": "update", invoices.name: "update"}
    assert _keys(root, "--changed-since", base) == {"salam-dev-payments": "update"}
    edit(root, "dev", "subscriptions", '"0 * * * *"', '"5 * * * *"')  # not committed: seen too
    assert set(_keys(root, "--changed-since", base)) == {
        "salam-dev-payments",
        "salam-dev-subscriptions",
    }
    assert _keys(root, "--changed-since", "HEAD", "--job", "payments") == {}


def test_a_deleted_job_shows_as_its_deletion_and_an_environment_change_as_every_job(
    store: Store, repo: Callable[..., Path]
) -> None:
    root, base = _applied(store, repo)
    git(root, "rm", "-q", "environments/dev/jobs/payments.yaml")
    commit(root, "B: payments retired")
    assert _keys(root, "--changed-since", base) == {"salam-dev-payments": "delete"}

    settings = root / "environments/dev/environment.yaml"
    settings.write_text(settings.read_text().replace("driver_memory: 1g", "driver_memory: 2g"))
    every = _keys(root, "--changed-since", base)
    assert every == _keys(root) and len(every) > 1 and every["salam-dev-payments"] == "delete"


def test_misuse_is_a_clear_error(store: Store, repo: Callable[..., Path]) -> None:
    root, _ = _applied(store, repo)
    applying = run_reconcile("--env", "dev", "--root", str(root), "--changed-since", "HEAD")
    assert applying.exit_code == 2 and "--changed-since narrows a dry-run" in applying.stderr
    unknown = run_reconcile(
        "--env", "dev", "--root", str(root), "--dry-run", "--changed-since", "no-such-branch"
    )
    assert unknown.exit_code == 1 and "unknown git revision 'no-such-branch'" in unknown.stderr
    assert store.writes == len(store.resources)  # only the first apply wrote
