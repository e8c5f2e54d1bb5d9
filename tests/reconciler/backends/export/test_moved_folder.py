"""An export folder or DAGs folder that moved out of the config is still found: the inventory
says where to look. The next reconcile writes to the new folder and removes Salam's files from
the old one (a file that is not Salam's stays), and records the new place.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from reconciler import inventory
from tests.reconciler.backends.moved import edit_settings, reconcile, recorded

pytestmark = pytest.mark.integration


def test_a_moved_export_folder_is_emptied_of_salams_files(project: Callable[..., Path]) -> None:
    root = project("dev")
    old, new = root / ".salam/export/dev", root / ".salam/handoff/dev"
    new.mkdir(parents=True)
    assert reconcile(root, "--backend", "export")[0] == 0
    written = sorted(p.name for p in old.iterdir())
    assert written == ["salam-dev-payments.json", "salam-dev-tariff_catalog.json"]
    (old / "theirs.json").write_text("{}\n")

    edit_settings(root, "folder: .salam/export/dev", "folder: .salam/handoff/dev")
    code, out = reconcile(root, "--backend", "export")
    assert code == 0, out
    assert sorted(p.name for p in old.iterdir()) == ["theirs.json"], "only Salam's file goes"
    assert sorted(p.name for p in new.iterdir()) == written
    assert recorded(root) == {
        f"export/.salam/handoff/dev/{name}": {"export.folder": ".salam/handoff/dev"}
        for name in written
    }


def test_an_environment_already_in_sync_gets_its_inventory(project: Callable[..., Path]) -> None:
    """A deployment from before the inventory: the first apply with nothing to do records it."""
    root = project("dev")
    assert reconcile(root, "--backend", "export")[0] == 0
    inventory.path(root / ".salam/state/dev").unlink()
    assert reconcile(root, "--backend", "export", "--dry-run")[0] == 0
    assert recorded(root) == {}, "a dry run writes no state"
    code, out = reconcile(root, "--backend", "export")
    assert code == 0 and "is in sync" in out
    assert len(recorded(root)) == 2


def test_a_moved_dags_folder_is_emptied_of_salams_dags(project: Callable[..., Path]) -> None:
    root = project("dev")
    old, new = root / ".salam/airflow/dev/dags", root / ".salam/airflow/dev/dags2"
    new.mkdir(parents=True)
    assert reconcile(root, "--backend", "airflow")[0] == 0
    written = sorted(p.name for p in old.iterdir())
    assert written == ["salam_dev_invoices.py"]
    edit_settings(
        root, "dags_folder: .salam/airflow/dev/dags", "dags_folder: .salam/airflow/dev/dags2"
    )
    code, out = reconcile(root, "--backend", "airflow", command=("drift",))
    assert code == 4 and "orphan" in out, out
    code, out = reconcile(root, "--backend", "airflow")
    assert code == 0, out
    assert list(old.iterdir()) == [] and sorted(p.name for p in new.iterdir()) == written
