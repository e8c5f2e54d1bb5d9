"""The embedded miniboss BSS source: deterministic, and shaped like the dev job configs."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import yaml

from ingestion.demo import generate

REPO = Path(__file__).resolve().parents[3]


def _dump(path: Path) -> str:
    with sqlite3.connect(path) as conn:
        text = "\n".join(conn.iterdump())
    conn.close()
    return hashlib.sha256(text.encode()).hexdigest()


def test_same_seed_gives_the_same_database(tmp_path: Path) -> None:
    first = generate.generate(tmp_path / "a.db", rows=300, seed=3)
    second = generate.generate(tmp_path / "b.db", rows=300, seed=3)
    other = generate.generate(tmp_path / "c.db", rows=300, seed=4)

    assert first == second == other
    assert _dump(tmp_path / "a.db") == _dump(tmp_path / "b.db") != _dump(tmp_path / "c.db")


def test_tables_and_cursor_columns_match_the_dev_jobs(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    counts = generate.generate(path, rows=400)
    assert counts["usage_records"] == 400 and all(n > 0 for n in counts.values())
    with sqlite3.connect(path) as conn:
        for job_file in sorted((REPO / "environments" / "dev" / "jobs").glob("*.yaml")):
            job = yaml.safe_load(job_file.read_text())
            cursor = (job.get("load") or {}).get("cursor_column")
            for table in job["source"]["tables"]:
                columns = {row[1] for row in conn.execute(f"PRAGMA table_info({table['name']})")}
                assert set(table["primary_key"]) <= columns, (job_file.name, table["name"])
                if cursor:
                    assert cursor in columns, (job_file.name, table["name"], cursor)
    conn.close()


def test_timestamps_are_sortable_utc_text(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    generate.generate(path, rows=100)
    with sqlite3.connect(path) as conn:
        values = [r[0] for r in conn.execute("SELECT rated_at FROM usage_records")]
    conn.close()
    assert all(len(v) == 19 and v[10] == " " for v in values)
