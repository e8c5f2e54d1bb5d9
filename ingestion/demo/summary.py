"""The main command's closing summary of one triggered dev run, read from the files it left.

``python -m ingestion.demo.summary RESULT.json`` prints the workflow's outcome, the dev crontab
block's entries, each ingested table's rows and watermark move (from the run's COMPLETE event in
``.salam/events/dev.jsonl``), and where the events and the lake are. Standard library only, so
it runs wherever the main command does.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

STATE = Path(".salam")
JOB = "miniboss_bss"


def completed_tables(events: Path, job: str) -> list[Mapping[str, Any]]:
    """The tables of ``job``'s latest COMPLETE event (empty when the job has none yet)."""
    tables: list[Mapping[str, Any]] = []
    for line in events.read_text(encoding="utf-8").splitlines() if events.exists() else []:
        event = json.loads(line) if line.strip() else {}
        if event.get("eventType") == "COMPLETE" and event.get("job", {}).get("name") == job:
            tables = event["run"]["facets"]["salam"]["tables"]
    return tables


def lines(result: Mapping[str, Any], state: Path = STATE) -> Iterator[str]:
    """The summary, line by line."""
    run = result.get("result") or {}
    counts = ", ".join(f"{n} {kind}" for kind, n in (run.get("events") or {}).items())
    yield (
        f"workflow {result.get('workflowId', '?')}: {result.get('status', '?')} "
        f"(exit {run.get('exit_code', '?')}, {run.get('duration_seconds', 0):.0f}s, "
        f"events: {counts or 'none'})"
    )
    cron = state / "cron/salam-dev.cron"
    entries = cron.read_text(encoding="utf-8").count("# salam job=") if cron.exists() else 0
    yield f"crontab block: {entries} entry(ies) in {cron}"
    for table in completed_tables(state / "events/dev.jsonl", JOB):
        window = table["window"]
        yield (
            f"  {table['target']}: {table['status']}, {table['rows_written']} row(s) written, "
            f"watermark {window['watermark_before'] or '-'} -> {window['watermark_after']}"
        )
    yield f"events: {state / 'events/dev.jsonl'}   lake: {state / 'lake'}/"


def main(argv: list[str]) -> int:
    """Print the summary of the run whose result JSON is ``argv[0]``."""
    result = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    print("\n".join(lines(result)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
