"""A small offline kustomize for the features manifests/ uses, so tests need no kubectl.

Supports ``resources`` (files and directories), ``namespace`` (also renaming Namespace objects
and filling unset ServiceAccount subject namespaces, as kustomize does), ``labels`` (metadata only),
``images``, ``replicas`` and strategic-merge ``patches`` (maps merge; lists of named maps merge
by name; other lists replace). When kubectl is present, a test checks it builds the same.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

Doc = dict[str, Any]
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding"}


def build(directory: Path) -> list[Doc]:
    spec = yaml.safe_load((directory / "kustomization.yaml").read_text(encoding="utf-8"))
    docs: list[Doc] = []
    for entry in spec.get("resources", []):
        path = directory / entry
        docs.extend(build(path) if path.is_dir() else load(path))
    for patch in spec.get("patches", []):
        for change in load(directory / patch["path"]):
            target = _find(docs, change["kind"], change["metadata"]["name"])
            merged = merge(copy.deepcopy(target), change)
            target.clear()
            target.update(merged)
    for doc in docs:
        _transform(doc, spec)
    return docs


def load(path: Path) -> list[Doc]:
    return [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]


def merge(base: Any, patch: Any) -> Any:
    if isinstance(base, dict) and isinstance(patch, dict):
        merged = dict(base)
        for key, value in patch.items():
            merged[key] = merge(base[key], value) if key in base else value
        return merged
    if isinstance(base, list) and isinstance(patch, list) and _named(base) and _named(patch):
        by_name = {item["name"]: item for item in base}
        merged_list = [merge(by_name[i["name"]], i) if i["name"] in by_name else i for i in patch]
        patched = {item["name"] for item in patch}
        return merged_list + [item for item in base if item["name"] not in patched]
    return patch


def containers(doc: Doc) -> list[Doc]:
    spec = doc.get("spec", {})
    pod = (spec.get("jobTemplate", {}).get("spec", spec)).get("template", {}).get("spec", {})
    return [*pod.get("initContainers", []), *pod.get("containers", [])]


def _image(image: Doc) -> str:
    """The image as kustomize writes it: ``name@digest`` given a digest, else ``name:tag``."""
    name = image.get("newName", image["name"])
    return f"{name}@{image['digest']}" if "digest" in image else f"{name}:{image['newTag']}"


def _named(items: list[Any]) -> bool:
    return all(isinstance(i, dict) and "name" in i for i in items)


def _find(docs: list[Doc], kind: str, name: str) -> Doc:
    for doc in docs:
        if doc["kind"] == kind and doc["metadata"]["name"] == name:
            return doc
    raise KeyError(f"patch target {kind}/{name} not found")


def _transform(doc: Doc, spec: Doc) -> None:
    namespace = spec.get("namespace")
    if namespace:
        if doc["kind"] == "Namespace":
            doc["metadata"]["name"] = namespace
        elif doc["kind"] not in CLUSTER_SCOPED:
            doc["metadata"]["namespace"] = namespace
        for subject in doc.get("subjects", []):
            if subject.get("kind") == "ServiceAccount":
                subject.setdefault("namespace", namespace)  # kustomize keeps an explicit one
    for entry in spec.get("labels", []):
        doc["metadata"].setdefault("labels", {}).update(entry["pairs"])
    for image in spec.get("images", []):
        for container in containers(doc):
            if container["image"].split(":")[0] == image["name"]:
                container["image"] = _image(image)
    for replica in spec.get("replicas", []):
        if doc["kind"] == "Deployment" and doc["metadata"]["name"] == replica["name"]:
            doc["spec"]["replicas"] = replica["count"]
