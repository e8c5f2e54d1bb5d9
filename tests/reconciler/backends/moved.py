"""Shared steps of the moved-location tests: run ``reconcile`` on a dev copy, move a setting in
its environment.yaml, and read what the inventory recorded."""

from __future__ import annotations

from pathlib import Path

from reconciler import inventory
from tests.conftest import run_reconcile


def reconcile(root: Path, *args: str, command: tuple[str, ...] = ()) -> tuple[int, str]:
    result = run_reconcile(*command, "--env", "dev", "--root", str(root), *args)
    return result.exit_code, result.output


def edit_settings(root: Path, old: str, new: str) -> None:
    settings = root / "environments/dev/environment.yaml"
    text = settings.read_text()
    assert old in text
    settings.write_text(text.replace(old, new))


def recorded(root: Path) -> dict[str, dict[str, object]]:
    """Key → location of every object in dev's inventory."""
    entries = inventory.load(root / ".salam/state/dev")
    return {str(e.key): dict(e.location) for e in entries}
