"""JSON Schema validation (draft 2020-12) turned into located, actionable diagnostics.

The schemas ship as package data (``ingestion/schemas``). Every violation becomes one
:class:`Diagnostic`; unknown keys get a "did you mean" from the allowed keys at that place.
Messages are worded here, never taken from jsonschema (whose messages quote whole values): a
value is quoted only as :func:`ingestion.config.secrets.shown` allows, and never at a secret
reference.

A document is first asked of ``jsonschema_rs`` (compiled, about a hundred times quicker), which
only says whether it is valid: a valid document, the usual case, costs that alone; anything
else — invalid, or a value it cannot read — goes to ``jsonschema``, which finds and names every
problem. The two read the schemas' patterns alike on printable ASCII; a document holding any
other character (their ``\\s`` differ) is only ever asked of ``jsonschema``.
"""

from __future__ import annotations

import difflib
import functools
import json
from collections.abc import Iterator
from importlib import resources
from typing import TYPE_CHECKING, Any

import jsonschema_rs

from ingestion.config import secrets
from ingestion.config.diagnostics import Diagnostic, json_path
from ingestion.config.yamlsource import PathKey, SourceDoc

if TYPE_CHECKING:  # imported when a document is not valid, not before (0.1 s of start-up)
    import jsonschema

JOB = "job.schema.json"
ENVIRONMENT = "environment.schema.json"
SPARK_LOCK = "spark-lock.schema.json"
# the job schema for a generated job that runs its own command (:mod:`.maintenance`): no source
# and no target are required
COMMAND_JOB = "job.schema.json#command"
_BASE = "https://salam.dev/schemas/"


@functools.cache
def load(name: str) -> dict[str, Any]:
    """The schema document ``name`` (``job.schema.json``, ``environment.schema.json`` …)."""
    if name == COMMAND_JOB:
        return {**load(JOB), "required": ["runtime"]}
    text = resources.files("ingestion").joinpath("schemas", name).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@functools.cache
def _validator(name: str) -> jsonschema.Draft202012Validator:
    import jsonschema
    from referencing import Registry, Resource

    registry: Registry[Any] = Registry().with_resources(
        (_BASE + n, Resource.from_contents(load(n))) for n in (JOB, ENVIRONMENT)
    )
    return jsonschema.Draft202012Validator(load(name), registry=registry)


@functools.cache
def _quick(name: str) -> jsonschema_rs.Validator:
    registry = jsonschema_rs.Registry([(_BASE + n, load(n)) for n in (JOB, ENVIRONMENT)])
    return jsonschema_rs.validator_for(load(name), registry=registry)


def _surely_valid(instance: Any, name: str) -> bool:
    """True when ``jsonschema_rs`` finds the document valid and reads it as ``jsonschema`` does
    (printable ASCII: ``json.dumps`` escapes everything else as ``\\u``)."""
    try:
        if "\\u" in json.dumps(instance):
            return False
        return bool(_quick(name).is_valid(instance))
    except (TypeError, ValueError):  # not plain JSON (a YAML date, say): jsonschema reads it
        return False


def validate(doc: SourceDoc, name: str, data: Any = None, origin: Any = None) -> list[Diagnostic]:
    """Validate ``data`` (default: the document's own) against schema ``name``.

    ``origin`` maps a JSON path to the :class:`SourceDoc` it came from, for merged documents.
    """
    instance = doc.data if data is None else data
    if _surely_valid(instance, name):
        return []
    found: list[Diagnostic] = []
    for error in _validator(name).iter_errors(instance):
        found.extend(_diagnostics(error, doc if origin is None else origin))
    return found


def _diagnostics(error: jsonschema.ValidationError, origin: Any) -> Iterator[Diagnostic]:
    path: PathKey = tuple(error.absolute_path)
    if error.validator == "additionalProperties":
        yield from _unknown_keys(error, path, origin)
        return
    value = "" if _secret_reference(error) else secrets.shown(error.instance, path)
    summary, hint = _describe(error, value)
    yield Diagnostic(_code(error), summary, _locate(origin, path), json_path(path), hint)


def _unknown_keys(
    error: jsonschema.ValidationError, path: PathKey, origin: Any
) -> Iterator[Diagnostic]:
    allowed = sorted(error.schema.get("properties", {}))
    for key in sorted(set(error.instance) - set(allowed)):
        close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
        hint = f"did you mean '{close[0]}'?" if close else f"allowed keys: {', '.join(allowed)}"
        where = (*path, key)
        if secrets.looks_secret(key):  # a token pasted as a key: name neither it nor its path
            summary, shown_path = "unknown key (not shown: it looks like a secret)", path
        else:
            summary, shown_path = f"unknown key '{key}'", where
        yield Diagnostic(
            "unknown-key", summary, _locate(origin, where), json_path(shown_path), hint
        )


def _describe(error: jsonschema.ValidationError, value: str) -> tuple[str, str]:
    """Summary and hint of one violation; ``value`` is the instance as a message may quote it,
    ``""`` when it must not be quoted (see :func:`secrets.shown`)."""
    kind, limit, instance = error.validator, error.validator_value, error.instance
    subject = value or _unquoted(instance)
    if kind in ("required", "dependentRequired"):
        return _missing_key(kind, limit, instance)
    if kind == "type":
        got = f"{_type_name(instance)} {value}".rstrip()
        return f"expected {_types(limit)}, got {got}", ""
    if kind == "enum":
        choices = [str(v) for v in limit]
        close = difflib.get_close_matches(str(instance), choices, n=1, cutoff=0.6)
        hint = f"did you mean '{close[0]}'?" if close else f"one of: {', '.join(choices)}"
        return f"{subject} is not allowed", hint
    if kind == "pattern":
        description = error.schema.get("description", "")
        return f"{subject} is not valid here", description.split(". ")[0]
    if kind in _BOUNDS:
        return f"{subject} {_BOUNDS[str(kind)].format(limit=limit)}", ""
    return f"{subject} does not satisfy the schema's '{kind}'", ""


_BOUNDS = {
    "minLength": "is shorter than {limit} character(s)",
    "maxLength": "is longer than {limit} character(s)",
    "minimum": "is below the minimum of {limit}",
    "maximum": "is above the maximum of {limit}",
    "exclusiveMinimum": "must be greater than {limit}",
    "exclusiveMaximum": "must be less than {limit}",
    "minItems": "needs at least {limit} item(s)",
    "maxItems": "has more than {limit} item(s)",
    "minProperties": "needs at least {limit} key(s)",
    "maxProperties": "has more than {limit} key(s)",
}


def _unquoted(instance: Any) -> str:
    if isinstance(instance, dict | list):
        return f"the {'mapping' if isinstance(instance, dict) else 'list'}"
    return "the value (not shown)"


def _secret_reference(error: jsonschema.ValidationError) -> bool:
    """True when the failing schema is the secret reference's: what is there is never quoted."""
    return error.schema == load(JOB)["$defs"]["secret_ref"]


def _missing_key(kind: str, value: Any, instance: Any) -> tuple[str, str]:
    """The first key a ``required`` / ``dependentRequired`` error asks for, worded for a person."""
    if kind == "required":
        key = next(k for k in value if k not in instance)
        return f"missing required key '{key}'", f"add '{key}' here"
    owner, key = next(
        (k, d) for k, deps in value.items() if k in instance for d in deps if d not in instance
    )
    return f"'{owner}' needs '{key}'", f"add '{key}' here"


def _code(error: jsonschema.ValidationError) -> str:
    return {
        "required": "missing-key",
        "dependentRequired": "missing-key",
        "type": "wrong-type",
        "enum": "not-allowed",
    }.get(str(error.validator), "invalid-value")


def _locate(origin: Any, path: PathKey) -> Any:
    return origin(path) if callable(origin) else origin.locate(path)


def _types(value: Any) -> str:
    names = value if isinstance(value, list) else [value]
    labels = {"object": "a mapping", "array": "a list"}
    return " or ".join(labels.get(str(n), str(n)) for n in names)


def _type_name(instance: Any) -> str:
    if isinstance(instance, dict):
        return "a mapping"
    if isinstance(instance, list):
        return "a list"
    if instance is None:
        return "null"
    return {bool: "boolean", int: "integer", float: "number", str: "string"}.get(
        type(instance), "value"
    )
