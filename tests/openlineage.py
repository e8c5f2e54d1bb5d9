"""The OpenLineage oracle of the tests: every event validated against the official 2-0-2 schemas.

The schemas (RunEvent and the facets Salam emits) are vendored as data in
``tests/testdata/openlineage/`` (see its README). :func:`validate` checks an event against
``OpenLineage.json`` (draft 2020-12, format checking on: ``uuid``, ``date-time``, ``uri``), then
each facet whose ``_schemaURL`` is an official facet schema against that schema, under the key
the schema defines (a facet under another key would slip past its schema: an error too).
:func:`check_lifecycle` asserts START, then exactly one COMPLETE / FAIL / ABORT, per ``runId``.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource

SPEC = Path(__file__).resolve().parent / "testdata" / "openlineage"
EVENT_SCHEMA = "https://openlineage.io/spec/2-0-2/OpenLineage.json"
OFFICIAL_FACETS = "https://openlineage.io/spec/facets/"
TERMINAL = {"COMPLETE", "FAIL", "ABORT"}
# the format checks a schema relies on: without their extras jsonschema passes anything
REQUIRED_FORMATS = ("uuid", "date-time", "uri")


@functools.cache
def schemas() -> dict[str, dict[str, Any]]:
    """Every vendored schema by its ``$id``."""
    files = [SPEC / "OpenLineage.json", *sorted((SPEC / "facets").glob("*.json"))]
    loaded = [json.loads(path.read_text()) for path in files]
    return {schema["$id"]: schema for schema in loaded}


@functools.cache
def _registry() -> Registry:
    resources = [(uri, Resource.from_contents(schema)) for uri, schema in schemas().items()]
    return Registry().with_resources(resources)


@functools.cache
def _validator(uri: str) -> Draft202012Validator:
    """A validator of the schema at ``uri`` (a ``$id``, or a ``$ref`` into one)."""
    checker = Draft202012Validator.FORMAT_CHECKER
    missing = [name for name in REQUIRED_FORMATS if name not in checker.checkers]
    assert not missing, f"jsonschema cannot check format {missing}: install the dev extras"
    schema = schemas().get(uri, {"$ref": uri})
    return Draft202012Validator(schema, registry=_registry(), format_checker=checker)


def errors(event: Mapping[str, Any]) -> list[str]:
    """Every way ``event`` breaks the RunEvent schema or one of its facets' schemas."""
    found = _messages("", _validator(EVENT_SCHEMA), event)
    if found:  # the root is a oneOf of three event kinds: say why it is no RunEvent
        found = _messages("", _validator(EVENT_SCHEMA + "#/$defs/RunEvent"), event) or found
    for where, key, facet in _facets(event):
        url = str(facet.get("_schemaURL", "")) if isinstance(facet, Mapping) else ""
        if not url.startswith(OFFICIAL_FACETS):
            continue  # a custom facet: the base facet schema (in OpenLineage.json) applies
        schema = schemas().get(url)
        if schema is None:
            found.append(f"{where}.{key}: _schemaURL {url} is no vendored facet schema")
        elif key not in schema["properties"]:
            found.append(f"{where}.{key}: {url} defines facet {sorted(schema['properties'])}")
        else:
            found += _messages(f"{where}.", _validator(url), {key: facet})
    return found


def validate(event: Mapping[str, Any]) -> Mapping[str, Any]:
    problems = errors(event)
    assert not problems, f"{event.get('eventType')} event is not valid OpenLineage: {problems}"
    return event


def validate_all(events: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return [validate(event) for event in events]


def check_lifecycle(events: Iterable[Mapping[str, Any]]) -> dict[str, list[str]]:
    """The event types per run id; asserts START then exactly one terminal event for each."""
    runs: dict[str, list[str]] = {}
    for event in events:
        runs.setdefault(event["run"]["runId"], []).append(event["eventType"])
    for run_id, kinds in runs.items():
        lifecycle = [kind for kind in kinds if kind != "RUNNING"]
        assert len(lifecycle) == 2 and lifecycle[0] == "START" and lifecycle[1] in TERMINAL, (
            f"run {run_id}: {kinds} is not START then one of {sorted(TERMINAL)}"
        )
    return runs


def _facets(event: Mapping[str, Any]) -> Iterator[tuple[str, str, Any]]:
    """``(where, key, facet)`` for every facet of ``event``."""
    holders: list[tuple[str, Any]] = [
        ("run.facets", (event.get("run") or {}).get("facets")),
        ("job.facets", (event.get("job") or {}).get("facets")),
    ]
    for side, extra in (("inputs", "inputFacets"), ("outputs", "outputFacets")):
        for i, dataset in enumerate(event.get(side) or []):
            holders.append((f"{side}[{i}].facets", dataset.get("facets")))
            holders.append((f"{side}[{i}].{extra}", dataset.get(extra)))
    for where, facets in holders:
        for key, facet in (facets or {}).items():
            yield where, key, facet


def _messages(prefix: str, validator: Draft202012Validator, instance: Any) -> list[str]:
    """Every error at its path (a failed ``anyOf`` / ``oneOf`` by its sub-errors)."""
    return [
        f"{prefix}{'/'.join(str(p) for p in leaf.absolute_path) or '(root)'}: {leaf.message}"
        for error in validator.iter_errors(instance)
        for leaf in _leaves(error)
    ]


def _leaves(error: ValidationError) -> Iterator[ValidationError]:
    if not error.context:
        yield error
    for sub in error.context or ():
        yield from _leaves(sub)
