"""The RBAC in manifests/ grants exactly what the code calls: the verbs are derived from the
Kubernetes client calls in the source (an AST scan), not from a list kept by hand. The
reconciler's Role covers the CronJob backend and the apply lease."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tests.conftest import ROOT
from tests.manifests import kustomize

BACKEND = ROOT / "reconciler" / "backends" / "kubernetes" / "backend.py"
LEASE = ROOT / "reconciler" / "backends" / "kubernetes" / "lease.py"
READ_PATH = {"read", "_read_namespace", "_list", "_foreign", "_live"}
CALL = re.compile(r"^(list|read|create|replace|patch|delete_collection|delete)_namespaced_(\w+)$")
VERBS = {
    "list": "list",
    "read": "get",
    "create": "create",
    "replace": "update",
    "patch": "patch",
    "delete": "delete",
    "delete_collection": "deletecollection",
}
RESOURCES = {"cron_job": ("batch", "cronjobs"), "lease": ("coordination.k8s.io", "leases")}

Grants = dict[tuple[str, str], set[str]]


def called(path: Path, functions: set[str] | None = None) -> Grants:
    """(apiGroup, resource) → verbs of every ``*_namespaced_*`` client call in ``path``."""
    grants: Grants = {}
    for function in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(function, ast.FunctionDef):
            continue
        if functions is not None and function.name not in functions:
            continue
        for node in ast.walk(function):
            if isinstance(node, ast.Attribute) and (match := CALL.match(node.attr)):
                grants.setdefault(RESOURCES[match[2]], set()).add(VERBS[match[1]])
    return grants


def granted(role: str) -> Grants:
    docs = kustomize.build(ROOT / "manifests" / "overlays" / "prod")
    [doc] = [d for d in docs if d["kind"] == "Role" and d["metadata"]["name"] == role]
    grants: Grants = {}
    for rule in doc["rules"]:
        assert "resourceNames" not in rule and "nonResourceURLs" not in rule
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                grants.setdefault((group, resource), set()).update(rule["verbs"])
    return grants


def test_reconciler_role_is_exactly_the_backend_and_lease_calls() -> None:
    expected = called(BACKEND) | called(LEASE)
    assert expected[("batch", "cronjobs")] == {"list", "get", "create", "update", "delete"}
    assert expected[("coordination.k8s.io", "leases")] == {"get", "create", "update"}
    assert granted("salam-reconciler") == expected


def test_drift_role_is_exactly_the_read_path() -> None:
    assert granted("salam-drift") == called(BACKEND, READ_PATH) == {("batch", "cronjobs"): {"list"}}


def test_no_cluster_wide_or_wildcard_grants_and_no_other_client_callers() -> None:
    docs = [
        d
        for env in ("dev", "uat", "prod")
        for d in kustomize.build(ROOT / "manifests" / "overlays" / env)
    ]
    assert not [d for d in docs if d["kind"] in ("ClusterRole", "ClusterRoleBinding")]
    for doc in docs:
        for rule in doc.get("rules", []):
            assert "*" not in [*rule["verbs"], *rule["resources"], *rule["apiGroups"]]
    others = [
        p
        for package in ("reconciler", "ingestion")
        for p in (ROOT / package).rglob("*.py")
        if p not in (BACKEND, LEASE) and called(p)
    ]
    assert others == [], "another module calls the Kubernetes API: grant its verbs explicitly"


def test_pods_of_ingestion_jobs_and_the_worker_get_no_token() -> None:
    docs = kustomize.build(ROOT / "manifests" / "overlays" / "prod")
    [ingest] = [
        d for d in docs if d["kind"] == "ServiceAccount" and d["metadata"]["name"] == "salam-ingest"
    ]
    assert ingest["automountServiceAccountToken"] is False
    bound = {s["name"] for d in docs if d["kind"] == "RoleBinding" for s in d["subjects"]}
    assert "salam-ingest" not in bound
