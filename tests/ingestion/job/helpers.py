"""Shared helpers of the ingestion job tests: run a job in-process and read the lake back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ingestion.config import loader
from ingestion.job import lake
from ingestion.job.runner import RunOptions, RunResult, run
from tests.ingestion.job.conftest import Project


def run_job(project: Project, spark: Any, path: Path | None = None, **options: Any) -> RunResult:
    environment, job = loader.load_one_job(path or project.job())
    return run(environment, job, RunOptions(**options), spark=spark)


def versions(project: Project, identifier: str = "bss_raw.usage_records") -> list[tuple[Any, ...]]:
    """Every ``(usage_id, updated_at)`` version in the lake, sorted."""
    table = project.catalog().load_table(identifier)
    rows = table.scan(selected_fields=("usage_id", "updated_at")).to_arrow().to_pylist()
    return sorted((r["usage_id"], r["updated_at"]) for r in rows)


def source_versions(project: Project) -> list[tuple[Any, ...]]:
    return sorted(tuple(r) for r in project.sql("SELECT usage_id, updated_at FROM usage_records"))


def watermark(project: Project, identifier: str = "bss_raw.usage_records") -> str | None:
    table = project.catalog().load_table(identifier)
    return table.properties.get(lake.WATERMARK)


def staging_dirs(project: Project, identifier: str = "bss_raw.usage_records") -> set[str]:
    table = project.catalog().load_table(identifier)
    data = Path(lake.filesystem(table.location())[1]) / "data"
    return {p.name[len(lake.RUN_DIR_PREFIX) :] for p in data.glob(f"{lake.RUN_DIR_PREFIX}*")}
