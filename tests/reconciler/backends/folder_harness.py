"""A folder backend (airflow, export) on a throw-away root, reconciled the way the engine does."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from reconciler import diff
from reconciler.backends.airflow import AirflowBackend
from reconciler.backends.export import ExportBackend
from reconciler.model import ChangeSet, Result

B = TypeVar("B", AirflowBackend, ExportBackend)


@dataclass
class Harness(Generic[B]):
    root: Path
    backend: B
    folder: Path

    def file(self, name: str) -> Path:
        return self.folder / name

    def change_set(self, plans: list[Mapping[str, Any]], prune: bool = True) -> ChangeSet:
        desired = [self.backend.render(p) for p in plans]
        return diff.compute(self.backend.environment.name, desired, self.backend.read(), prune)

    def reconcile(self, plans: list[Mapping[str, Any]], prune: bool = True) -> list[Result]:
        results = self.backend.apply(self.change_set(plans, prune).pending())
        assert all(r.ok for r in results), [r.error for r in results]
        return results
