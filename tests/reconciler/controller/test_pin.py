"""The pin ``reconcile rollback --to`` leaves, on the in-memory backend: written only once live
state matches REV, shown by history, lifted by --unpin, and git "catching up" compares plans."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from reconciler.backends.memory import Store
from reconciler.controller import pin
from tests.conftest import run_reconcile
from tests.reconciler.engine.conftest import store  # noqa: F401
from tests.reconciler.gitops.conftest import commit, edit, git, repo  # noqa: F401


def _rollback(root: Path, *args: str):  # type: ignore[no-untyped-def]
    return run_reconcile("rollback", "--env", "dev", "--root", str(root), *args)


def test_rollback_pins_unpin_lifts_and_git_catching_up_is_the_same_plans(
    store: Store,  # noqa: F811
    repo: Callable[..., Path],  # noqa: F811
) -> None:
    root = repo("dev")
    state = root / ".salam/state/dev"
    first = git(root, "rev-parse", "HEAD")
    assert run_reconcile("--env", "dev", "--root", str(root)).exit_code == 0
    edit(root, "dev", "invoices", '"0 2 * * *"', '"0 5 * * *"')
    second = commit(root, "B")
    assert run_reconcile("--env", "dev", "--root", str(root)).exit_code == 0

    assert _rollback(root, "--to", first, "--dry-run").exit_code == 0
    assert pin.read(state) is None  # a dry run pins nothing
    rolled = _rollback(root, "--to", first[:8], "-o", "json")
    assert rolled.exit_code == 0, rolled.output
    assert json.loads(rolled.stdout)["pin"]["revision"] == first
    held = pin.read(state)
    assert held is not None and (held.revision, held.requested) == (first, first[:8])

    assert not pin.caught_up(root, "dev", (), first, second)
    git(root, "revert", "--no-edit", "HEAD")
    assert pin.caught_up(root, "dev", (), first, git(root, "rev-parse", "HEAD"))

    unpinned = _rollback(root, "--unpin")
    assert unpinned.exit_code == 0 and "lifted" in unpinned.stdout
    assert pin.read(state) is None
    assert "was not pinned" in _rollback(root, "--unpin").stdout
    assert _rollback(root, "--unpin", "--to", first).exit_code == 2
    assert _rollback(root).exit_code == 2
