"""The README's main command: the dev jobs ingest the generated embedded source into the lake."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from ingestion.config import loader
from ingestion.demo import generate
from ingestion.job.runner import RunOptions, run
from tests import openlineage

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def dev_root(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    shutil.copytree(REPO / "environments" / "dev", root / "environments" / "dev")
    generate.generate(root / ".salam" / "source" / "miniboss_bss.db", rows=1000)
    return root


def test_dev_jobs_ingest_the_embedded_source(dev_root: Path, spark: Any) -> None:
    counts = {}
    for job_name in ("miniboss_bss", "tariff_catalog", "usage_records"):
        path = dev_root / "environments" / "dev" / "jobs" / f"{job_name}.yaml"
        environment, job = loader.load_job(path)
        result = run(environment, job, RunOptions(), spark=spark)
        counts.update({t.target: t.rows_written for t in result.tables})
        assert all(t.snapshot_id for t in result.tables)

    assert counts["bss_raw.customers"] == 50 and counts["bss_raw.accounts"] == 55
    assert counts["bss_ref.products"] == 8 and counts["bss_raw.usage_records"] == 1000
    again = run(environment, job, RunOptions(), spark=spark)
    assert again.tables[0].window is not None and again.tables[0].window.kind == "incremental"
    assert again.tables[0].rows_written == 0
    text = (dev_root / ".salam" / "events" / "dev.jsonl").read_text()
    found = openlineage.validate_all(json.loads(line) for line in text.splitlines())
    assert [kinds[-1] for kinds in openlineage.check_lifecycle(found).values()] == ["COMPLETE"] * 4
