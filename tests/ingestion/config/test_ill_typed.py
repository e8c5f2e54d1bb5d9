"""Cross-field checks run on schema-invalid configs, so they must survive any ill-typed value:
every value of a job config and of environment.yaml, replaced in turn by each kind of wrong
value, gives diagnostics (and a still renderable valid part), never a crash."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from ingestion.config import loader
from ingestion.config.diagnostics import ConfigError
from ingestion.plan import environment as plans_of
from tests.conftest import ROOT

WRONG: tuple[Any, ...] = (None, 7, "text", [1], {"x": 1})


def _paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if path:
        yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*path, index))


def _replaced(data: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    copy = dict(data) if isinstance(data, dict) else list(data)
    copy[path[0]] = _replaced(data[path[0]], path[1:], new)
    return copy


def _load_each_mutation(root: Path, file: Path) -> int:
    original = yaml.safe_load(file.read_text())
    loads = 0
    for path in _paths(original):
        for wrong in WRONG:
            file.write_text(yaml.safe_dump(_replaced(original, path, wrong)))
            try:
                loader.load_environment(root, "dev")
            except loader.InvalidEnvironment as exc:
                if exc.valid is not None:
                    plans_of.render_all(exc.valid, with_git=False)
            except ConfigError:
                pass
            loads += 1
    return loads


@pytest.mark.parametrize(
    "job", ["miniboss_bss", "payments", "invoices", "network_events", "subscriptions"]
)
def test_any_ill_typed_job_value_is_reported_not_crashed_on(
    project: Callable[..., Path], job: str
) -> None:
    root = project("dev", jobs=False)
    jobs = root / "environments" / "dev" / "jobs"
    shutil.copy(ROOT / "environments" / "dev" / "jobs" / f"{job}.yaml", jobs)
    assert _load_each_mutation(root, jobs / f"{job}.yaml") > 50


def test_any_ill_typed_environment_value_is_reported_not_crashed_on(
    project: Callable[..., Path],
) -> None:
    root = project("dev")
    assert _load_each_mutation(root, root / "environments" / "dev" / "environment.yaml") > 50
