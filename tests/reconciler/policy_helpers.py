"""Shared set-up for the policy tests: a project copy with policies and edited jobs."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from ingestion.config import loader
from ingestion.plan import environment as plans
from tests.conftest import ROOT


def with_policies(root: Path) -> Path:
    shutil.copytree(ROOT / "policies", root / "policies")
    return root


def edit(root: Path, env: str, job: str, change: Callable[[str], str]) -> None:
    path = root / "environments" / env / "jobs" / f"{job}.yaml"
    text = path.read_text(encoding="utf-8")
    changed = change(text)
    assert changed != text, f"edit of {path} changed nothing"
    path.write_text(changed, encoding="utf-8")


def compliant_prod(root: Path) -> None:
    """Make the prod copy pass whatever the committed tariff_catalog says (retries 2 → 3)."""
    path = root / "environments" / "prod" / "jobs" / "tariff_catalog.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("count: 2", "count: 3"), encoding="utf-8")


def load(root: Path, env: str) -> tuple[loader.Environment, dict[str, dict[str, object]]]:
    environment = loader.load_environment(root, env, [])
    return environment, plans.render_all(environment, with_git=False)
