"""The rule that merges an environment's ``defaults`` under a job config.

Mappings merge key by key, recursively; a job's scalar or list replaces the default outright
(lists are never concatenated). The merged document remembers where each value came from, so a
diagnostic about a defaulted value points at ``environment.yaml``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ingestion.config.diagnostics import Location
from ingestion.config.yamlsource import PathKey, SourceDoc


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``override`` over ``base``: mappings merge recursively, everything else is replaced."""
    merged = dict(base)
    for key, value in override.items():
        below = merged.get(key)
        if isinstance(value, Mapping) and isinstance(below, Mapping):
            merged[key] = deep_merge(below, value)
        else:
            merged[key] = value
    return merged


def has_path(data: Any, path: PathKey) -> bool:
    for part in path:
        in_mapping = isinstance(data, dict) and isinstance(part, str) and part in data
        in_list = isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data)
        if in_mapping or in_list:
            data = data[part]
        else:
            return False
    return True


def origin(job: SourceDoc, environment: SourceDoc | None) -> Callable[[PathKey], Location]:
    """Locate a path of the merged document in the file its value came from."""

    def locate(path: PathKey) -> Location:
        if has_path(job.data, path) or environment is None:
            return job.locate(path)
        defaults = (
            environment.data.get("defaults", {}) if isinstance(environment.data, dict) else {}
        )
        if has_path(defaults, path):
            return environment.locate(("defaults", *path))
        return job.locate(path)

    return locate
