"""Every manifest under manifests/ (base and each overlay, built offline) and every CronJob the
backend renders validates against the Kubernetes schemas and the checks they lack."""

from __future__ import annotations

import copy
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from ingestion.config.loader import load_environment
from ingestion.plan.environment import render_all
from reconciler.backends.kubernetes import render
from tests.conftest import ROOT
from tests.manifests import checks, kustomize

MANIFESTS = ROOT / "manifests"
ENVS = ["dev", "uat", "prod"]


def overlay(env: str) -> list[kustomize.Doc]:
    return kustomize.build(MANIFESTS / "overlays" / env)


def all_problems(docs: list[kustomize.Doc]) -> list[str]:
    return [problem for doc in docs for problem in checks.problems(doc)]


def test_base_validates() -> None:
    docs = kustomize.build(MANIFESTS / "base")
    assert {d["kind"] for d in docs} >= {
        "Namespace",
        "ServiceAccount",
        "Role",
        "RoleBinding",
        "Deployment",
        "CronJob",
    }
    assert all_problems(docs) == []


@pytest.mark.parametrize("env", ENVS)
def test_overlay_validates_and_matches_the_environment(env: str) -> None:
    docs = overlay(env)
    assert all_problems(docs) == []
    settings = load_environment(ROOT, env).settings["kubernetes"]
    namespace = settings["namespace"]
    assert namespace == f"ingestion-{env}"
    assert [d["metadata"]["name"] for d in docs if d["kind"] == "Namespace"] == [namespace]
    assert {d["metadata"].get("namespace") for d in docs if d["kind"] != "Namespace"} == {namespace}
    subjects = [s for d in docs for s in d.get("subjects", [])]
    assert subjects and {s.get("namespace") for s in subjects} == {namespace}
    images = {c["image"] for d in docs for c in kustomize.containers(d)}
    assert images == {settings["image"]}
    worker = next(d for d in docs if d["kind"] == "Deployment")
    assert worker["spec"]["replicas"] == {"dev": 1, "uat": 2, "prod": 3}[env]
    [container] = worker["spec"]["template"]["spec"]["containers"]
    assert container["command"] == ["ingest", "worker", "--env", env]
    listen = {e["name"]: e.get("value") for e in container["env"]}["SALAM_WORKER_LISTEN"]
    assert [p["containerPort"] for p in container["ports"]] == [int(listen.rsplit(":", 1)[1])]
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "metrics"}
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "metrics"}
    assert container["resources"]["requests"] and container["readinessProbe"]
    assert (
        container["livenessProbe"]
        and worker["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] >= 30
    )
    drift = next(d for d in docs if d["kind"] == "CronJob")
    command = drift["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["command"]
    assert command[:4] == ["reconcile", "drift", "--env", env]
    # only what a pod can read: prod's crontab user and host folders do not exist there
    assert command[4:6] == ["--backend", "kubernetes"] and command.count("--backend") == 1


@pytest.mark.parametrize("env", ENVS)
def test_the_controller_serves_its_probes_and_reads_only_the_kubernetes_backend(env: str) -> None:
    docs = overlay(env)
    [deployment] = [d for d in docs if d["metadata"]["name"] == "salam-controller"
                    and d["kind"] == "Deployment"]  # fmt: skip
    spec = deployment["spec"]["template"]["spec"]
    [container] = spec["containers"]
    assert container["command"][:4] == ["reconcile", "serve", "--env", env]
    assert container["command"][-4:-2] == ["--backend", "kubernetes"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert spec["serviceAccountName"] == "salam-reconciler"
    assert spec["terminationGracePeriodSeconds"] >= 300  # SIGTERM lets an apply finish
    [service] = [d for d in docs if d["kind"] == "Service"]
    assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]


@pytest.mark.parametrize("env", ENVS)
def test_backend_rendered_cronjobs_validate(env: str) -> None:
    environment = load_environment(ROOT, env)
    plans = [
        p for p in render_all(environment, with_git=False).values() if p["mode"] == "kubernetes"
    ]
    assert plans
    docs = [render.manifest(render.desired(plan), env) for plan in plans]
    assert all_problems(docs) == []


def test_checks_catch_what_the_schemas_miss() -> None:
    docs = overlay("dev")
    bad = copy.deepcopy(next(d for d in docs if d["kind"] == "CronJob"))
    bad["metadata"]["name"] = "Salam_Drift"
    bad["spec"].update(schedule="61 * * * *", timeZone="Mars/Olympus", concurrencyPolicy="Never")
    bad["spec"]["unknownField"] = 1
    found = checks.problems(bad)
    for needle in (
        "schema: spec: Additional properties",
        "DNS-1123",
        "cron expression",
        "IANA",
        "concurrencyPolicy",
    ):
        assert any(needle in p for p in found), (needle, found)


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
@pytest.mark.parametrize("env", ENVS)
def test_offline_build_matches_kubectl_kustomize(env: str) -> None:
    built = subprocess.run(
        ["kubectl", "kustomize", str(MANIFESTS / "overlays" / env)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    theirs = [d for d in yaml.safe_load_all(built) if d]

    def key(doc: kustomize.Doc) -> tuple[str, str]:
        return doc["kind"], doc["metadata"]["name"]

    assert sorted(theirs, key=key) == sorted(overlay(env), key=key)


def test_every_manifest_file_is_built() -> None:
    """No stray manifest: every YAML file is a kustomization, a resource or a patch of one."""
    referenced: set[Path] = set()
    for kfile in MANIFESTS.glob("**/kustomization.yaml"):
        spec = yaml.safe_load(kfile.read_text(encoding="utf-8"))
        referenced.add(kfile)
        entries = [*spec.get("resources", []), *(p["path"] for p in spec.get("patches", []))]
        referenced.update((kfile.parent / e).resolve() for e in entries)
    not_kubernetes = {"rendered", "monitoring"}  # plans; Prometheus rule files (promtool-tested)
    files = {p.resolve() for p in MANIFESTS.glob("**/*.yaml") if not_kubernetes.isdisjoint(p.parts)}
    assert files - {p.resolve() for p in referenced} == set()
