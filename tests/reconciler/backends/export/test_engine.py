"""The engine with the real export backend on a copy of environments/dev."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from reconciler import engine
from reconciler.model import Action

FOLDER = Path(".salam/export/dev")
PAYMENTS = "salam-dev-payments.json"
TARIFFS = "salam-dev-tariff_catalog.json"


def options(root: Path) -> engine.ReconcileOptions:
    return engine.ReconcileOptions(root=root, env="dev", backends=("export",))


def pending(root: Path) -> list[tuple[Action, str]]:
    with engine.prepare(options(root)) as current:
        return [(c.action, c.key.name) for c in current.change_set.pending()]


def apply(root: Path) -> str:
    with engine.prepare(options(root), for_apply=True) as current:
        return engine.apply(current).status


def test_apply_drift_and_prune(project: Callable[..., Path]) -> None:
    root = project("dev")
    folder = root / FOLDER
    assert pending(root) == [(Action.CREATE, PAYMENTS), (Action.CREATE, TARIFFS)]
    assert apply(root) == "applied"
    assert pending(root) == []
    document = json.loads((folder / PAYMENTS).read_text())
    assert document["mode"] == "informatica" and document["salam"]["env"] == "dev"

    original = (folder / TARIFFS).read_text()
    (folder / TARIFFS).write_text(original.replace('"0 4 * * 1"', '"0 4 * * *"'))
    assert pending(root) == [(Action.UPDATE, TARIFFS)]
    assert apply(root) == "applied"
    assert (folder / TARIFFS).read_text() == original

    (folder / "notes.json").write_text("{}\n")
    (root / "environments" / "dev" / "jobs" / "payments.yaml").unlink()
    assert pending(root) == [(Action.DELETE, PAYMENTS)]
    assert apply(root) == "applied"
    assert sorted(p.name for p in folder.iterdir()) == ["notes.json", TARIFFS]
