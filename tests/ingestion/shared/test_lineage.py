"""OpenLineage events of :mod:`ingestion.shared.lineage` against the official 2-0-2 schemas — and
the schema oracle itself, which must reject what the schemas reject."""

from __future__ import annotations

import io
import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from ingestion.shared import lineage
from tests import openlineage


def _event(**changes: Any) -> dict[str, Any]:
    parent = lineage.temporal_parent("ns", "salam-dev-orders-1", lineage.uuid7())
    assert parent is not None
    facets = {
        "salam": lineage.facet(lineage.SALAM_RUN_FACET, run_id="r1"),
        "parent": parent.facet(),
        "errorMessage": lineage.error_facet("boom", "stage=load"),
        "processing_engine": lineage.facet(lineage.PROCESSING_ENGINE, name="spark", version="4"),
    }
    event = lineage.run_event(
        "FAIL", lineage.uuid7(), {"namespace": "salam/dev", "name": "j"}, facets
    )
    event["outputs"] = [
        {
            "namespace": "file",
            "name": "/lake/bss_raw/t",
            "facets": {},
            "outputFacets": {
                "outputStatistics": lineage.facet(
                    lineage.OUTPUT_STATISTICS, rowCount=1, size=2, fileCount=1
                )
            },
        }
    ]
    for path, value in changes.items():
        *parents, last = path.split("__")
        holder = event
        for key in parents:
            holder = holder[key]
        holder[last] = value
    return event


def test_a_full_event_validates() -> None:
    assert openlineage.errors(_event()) == []


@pytest.mark.parametrize(
    ("change", "value", "expected"),
    [
        ("run__runId", "20261128T082740Z-aa3b7970", "uuid"),
        ("producer", "not a uri", "uri"),
        ("eventTime", "2026-13-45T99:00:00Z", "date-time"),
        ("eventType", "DONE", "DONE"),
    ],
)
def test_the_validator_rejects_what_the_schema_rejects(
    change: str, value: str, expected: str
) -> None:
    found = openlineage.errors(_event(**{change: value}))
    assert found and expected in " ".join(found), found


def test_the_validator_checks_facets_against_their_own_schemas() -> None:
    bad_error = _event()
    del bad_error["run"]["facets"]["errorMessage"]["programmingLanguage"]
    assert "programmingLanguage" in " ".join(openlineage.errors(bad_error))
    wrong_key = _event()
    wrong_key["run"]["facets"]["error"] = wrong_key["run"]["facets"].pop("errorMessage")
    assert "defines facet ['errorMessage']" in " ".join(openlineage.errors(wrong_key))
    bad_parent = _event()
    bad_parent["run"]["facets"]["parent"]["run"]["runId"] = "wf-run-1"
    assert "uuid" in " ".join(openlineage.errors(bad_parent))
    no_producer = _event()
    del no_producer["run"]["facets"]["salam"]["_producer"]
    assert openlineage.errors(no_producer)


def test_lifecycle_check_wants_one_terminal_event_per_start() -> None:
    a, b = lineage.uuid7(), lineage.uuid7()
    ok = [{"run": {"runId": a}, "eventType": k} for k in ("START", "COMPLETE")]
    assert openlineage.check_lifecycle(ok) == {a: ["START", "COMPLETE"]}
    for kinds in (["START"], ["START", "FAIL", "ABORT"], ["COMPLETE"], ["START", "START", "FAIL"]):
        with pytest.raises(AssertionError):
            openlineage.check_lifecycle([{"run": {"runId": b}, "eventType": k} for k in kinds])


def test_uuid7_follows_rfc_9562_and_is_time_ordered() -> None:
    ids = [lineage.uuid7() for _ in range(200)]
    for text in ids:
        value = uuid.UUID(text)
        assert value.version == 7 and value.variant == uuid.RFC_4122
        assert lineage.is_uuid(text)
    millis = [uuid.UUID(text).int >> 80 for text in ids]
    assert millis == sorted(millis) and len(set(ids)) == len(ids)
    assert not lineage.is_uuid("20261128T082740Z-aa3b7970") and not lineage.is_uuid(None)


def test_parent_needs_a_uuid_run_id() -> None:
    assert lineage.temporal_parent("ns", "wf", "not-a-uuid") is None
    env = {
        lineage.TEMPORAL_NAMESPACE_ENV: "ns",
        lineage.WORKFLOW_ID_ENV: "wf",
        lineage.RUN_ID_ENV: str(uuid.uuid4()),
    }
    parent = lineage.parent_from_env(env)
    assert parent is not None and parent.namespace == "temporal/ns" and parent.name == "wf"


def test_a_file_sink_traces_each_event_with_its_run_id(tmp_path: Path) -> None:
    stream = io.StringIO()
    sink = lineage.Sink({"sink": "file", "path": "ev.jsonl"}, tmp_path, stream=stream)
    event = _event()
    sink.emit(event)
    (line,) = stream.getvalue().splitlines()
    assert lineage.observed(line) == ("FAIL", event["run"]["runId"])
    assert json.loads((tmp_path / "ev.jsonl").read_text()) == event
    with pytest.raises(lineage.SinkError):
        lineage.Sink({"sink": "file"}, tmp_path)
