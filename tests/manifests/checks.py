"""Offline validation of Kubernetes objects: the API schemas (strict, every error, through
kubernetes-validate's bundled schemas) plus what those schemas cannot say — cron syntax,
enum values, DNS-1123 names, label syntax and IANA time zones."""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import cronsim
import jsonschema
from kubernetes_validate import utils
from referencing import Registry, Resource

from tests.manifests.kustomize import containers

KUBERNETES_VERSION = "1.30"
DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
LABEL_NAMES = {"Namespace", "Service"}  # kinds whose names must be DNS-1123 labels
ENUMS = {
    "concurrencyPolicy": {"Allow", "Forbid", "Replace"},
    "imagePullPolicy": {"Always", "IfNotPresent", "Never"},
    "restartPolicy": {"Always", "OnFailure", "Never"},
    "strategy.type": {"RollingUpdate", "Recreate"},
    "verbs": {"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"},
}


def problems(doc: dict[str, Any]) -> list[str]:
    """Every problem of one object, each prefixed by Kind/name."""
    where = f"{doc.get('kind')}/{(doc.get('metadata') or {}).get('name')}"
    return [f"{where}: {p}" for p in [*schema_errors(doc), *semantic_errors(doc)]]


def schema_errors(doc: dict[str, Any]) -> Iterator[str]:
    api = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", doc["apiVersion"])
    version = [v for v in utils.all_versions() if utils.major_minor(v) <= KUBERNETES_VERSION][-1]
    folder = f"kubernetes-json-schema/v{version}-local-strict"
    schema = utils.schema_contents(f"{folder}/{doc['kind'].lower()}-{api}.json", version)
    defs = utils.schema_contents(f"{folder}/_definitions.json", version)
    registry = Resource.from_contents(defs) @ (Resource.from_contents(schema) @ Registry())
    validator = jsonschema.Draft202012Validator(schema, registry=registry)
    for error in sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path)):
        path = ".".join(str(p) for p in error.absolute_path) or "$"
        yield f"schema: {path}: {error.message}"


def semantic_errors(doc: dict[str, Any]) -> Iterator[str]:
    yield from _names(doc)
    yield from _labels(doc.get("metadata") or {})
    spec = doc.get("spec") or {}
    if doc["kind"] == "CronJob":
        yield from _cronjob(spec)
        yield from _labels(spec["jobTemplate"].get("metadata") or {})
    if doc["kind"] == "Deployment":
        yield from _enum("strategy.type", (spec.get("strategy") or {}).get("type"))
    for container in containers(doc):
        if not DNS1123_LABEL.match(container["name"]):
            yield f"container name {container['name']!r} is not a DNS-1123 label"
        yield from _enum("imagePullPolicy", container.get("imagePullPolicy"))
    for rule in doc.get("rules") or []:
        for verb in rule.get("verbs", []):
            yield from _enum("verbs", verb)


def _names(doc: dict[str, Any]) -> Iterator[str]:
    meta = doc.get("metadata") or {}
    name, namespace = meta.get("name", ""), meta.get("namespace")
    pattern = DNS1123_LABEL if doc["kind"] in LABEL_NAMES else DNS1123_SUBDOMAIN
    limit = 52 if doc["kind"] == "CronJob" else 63 if doc["kind"] in LABEL_NAMES else 253
    if not pattern.match(name) or len(name) > limit:
        yield f"name {name!r} is not a valid DNS-1123 name of at most {limit} characters"
    if namespace is not None and (not DNS1123_LABEL.match(namespace) or len(namespace) > 63):
        yield f"namespace {namespace!r} is not a DNS-1123 label"


def _labels(meta: dict[str, Any]) -> Iterator[str]:
    for key, value in (meta.get("labels") or {}).items():
        name = key.rsplit("/", 1)[-1]
        if len(name) > 63 or not LABEL_VALUE.match(name) or not name:
            yield f"label key {key!r} is invalid"
        if len(str(value)) > 63 or not LABEL_VALUE.match(str(value)):
            yield f"label value {value!r} of {key} is invalid"


def _cronjob(spec: dict[str, Any]) -> Iterator[str]:
    schedule = spec.get("schedule", "")
    if len(schedule.split()) != 5:
        yield f"schedule {schedule!r} must have 5 fields"
    else:
        try:
            cronsim.CronSim(schedule, datetime(2026, 1, 1))
        except cronsim.CronSimError as exc:
            yield f"schedule {schedule!r} is not a valid cron expression: {exc}"
    zone = spec.get("timeZone")
    if zone is not None and zone not in zoneinfo.available_timezones():
        yield f"timeZone {zone!r} is not an IANA time zone"
    yield from _enum("concurrencyPolicy", spec.get("concurrencyPolicy"))
    pod = spec["jobTemplate"]["spec"]["template"]["spec"]
    if pod.get("restartPolicy") not in {"Never", "OnFailure"}:
        yield f"restartPolicy {pod.get('restartPolicy')!r} must be Never or OnFailure in a Job"


def _enum(field: str, value: Any) -> Iterator[str]:
    if value is not None and value not in ENUMS[field]:
        yield f"{field} {value!r} is not one of {sorted(ENUMS[field])}"
