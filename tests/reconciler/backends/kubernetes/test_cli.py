"""``reconcile`` with the Kubernetes backend against the emulator: the dry run shows the CronJob
to create, applying creates it with Salam's labels, a second run has nothing to do; an
operator's ``suspend`` is one pause that an apply keeps (unless the config sets ``suspend``);
someone else's CronJob on a job's name is a conflict, never "in sync", and never touched."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import kmock
from kubernetes import client

from reconciler.backends.kubernetes import render
from tests.conftest import clone_job, run_reconcile
from tests.reconciler.backends.kubernetes.emulator import WRITES, EmulatorServer

CRONJOBS = kmock.resource("batch", "v1", "cronjobs")


def test_prod_dry_run_apply_then_in_sync(
    tmp_path: Path, kubeconfig: Path, k8s: EmulatorServer, project: Callable[..., Path]
) -> None:
    common = [
        "--env",
        "prod",
        "--root",
        str(project("prod")),
        "--backend",
        "kubernetes",
        "--set",
        f"kubernetes.kubeconfig={kubeconfig}",
        "--set",
        "kubernetes.context=kmock",
        "--set",
        f"state_dir={tmp_path / 'state'}",
    ]
    dry = run_reconcile(*common, "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "+ kubernetes/ingestion-prod/salam-prod-network-events" in dry.output
    assert not k8s.requests("POST")
    applied = run_reconcile(*common, "--yes")
    assert applied.exit_code == 0, applied.output
    labels = k8s.emulator.objects[CRONJOBS, "ingestion-prod", "salam-prod-network-events"].raw[
        "metadata"
    ]["labels"]
    assert labels[render.MANAGED_BY] == "salam" and labels[render.ENVIRONMENT_LABEL] == "prod"
    again = run_reconcile(*common, "--dry-run", "--exit-code")
    assert again.exit_code == 0 and "in sync" in again.output


NS = "ingestion-dev"
JOBS = Path("environments/dev/jobs")


def dev_cli(root: Path, kubeconfig: Path) -> Callable[..., Any]:
    """``reconcile`` (or a subcommand such as ``drift``, ``pause``) on dev's CronJobs only,
    against the emulator."""
    common = [
        "--env", "dev", "--root", str(root), "--backend", "kubernetes",
        "--set", f"kubernetes.kubeconfig={kubeconfig}", "--set", "kubernetes.context=kmock",
        "--set", "kubernetes.disabled=null", "--set", f"state_dir={root / 'state'}",
    ]  # fmt: skip

    def run(*args: str) -> Any:
        head = list(args[:1]) if args[:1] and not args[0].startswith("-") else []
        return run_reconcile(*head, *common, *args[len(head) :])

    return run


def writes(k8s: EmulatorServer) -> list[str]:
    return [f"{r.method} {r.name}" for r in k8s.requests() if r.method in WRITES]


def suspend_by_hand(k8s: EmulatorServer, name: str) -> None:
    """``kubectl patch cronjob NAME -p '{"spec":{"suspend":true}}'``, as an operator would."""
    configuration = client.Configuration()
    configuration.host = k8s.url
    api = client.BatchV1Api(client.ApiClient(configuration))
    api.patch_namespaced_cron_job(
        name, NS, {"spec": {"suspend": True}}, _content_type="application/merge-patch+json"
    )


def test_a_hand_suspend_is_one_pause_and_survives_the_apply(
    kubeconfig: Path, k8s: EmulatorServer, project: Callable[..., Path]
) -> None:
    root = project("dev")
    cli = dev_cli(root, kubeconfig)
    assert cli().exit_code == 0
    suspend_by_hand(k8s, "salam-dev-network-events")
    dry = cli("--dry-run", "--exit-code")
    assert dry.exit_code == 0, dry.output
    assert "is in sync" in dry.output
    assert "salam-dev-network-events is paused by an operator outside Salam; it stays paused" in (
        dry.output
    )
    drifted = cli("drift", "--output", "json")
    assert drifted.exit_code == 4, drifted.output
    document = json.loads(drifted.stdout)
    assert [(f["kind"], f["name"], f["fields"]) for f in document["findings"]] == [
        ("paused", "salam-dev-network-events", [])
    ]
    assert document["summary"]["paused"] == 1 and document["summary"]["modified"] == 0
    before = len(writes(k8s))
    assert cli().exit_code == 0
    config = root / JOBS / "network_events.yaml"
    config.write_text(config.read_text().replace("*/30 * * * *", "*/20 * * * *"))
    assert cli().exit_code == 0
    spec = k8s.emulator.objects[CRONJOBS, NS, "salam-dev-network-events"].raw["spec"]
    assert (spec["schedule"], spec["suspend"]) == ("*/20 * * * *", True)
    assert len(writes(k8s)) == before + 1  # the schedule's update, nothing for the pause
    assert [f["kind"] for f in json.loads(cli("drift", "--output", "json").stdout)["findings"]] == [
        "paused"
    ]


def test_config_suspend_false_resumes_and_drift_counts_the_pause_once(
    kubeconfig: Path, k8s: EmulatorServer, project: Callable[..., Path]
) -> None:
    root = project("dev")
    config = root / JOBS / "network_events.yaml"
    config.write_text(config.read_text() + "      suspend: false\n")
    cli = dev_cli(root, kubeconfig)
    assert cli().exit_code == 0
    suspend_by_hand(k8s, "salam-dev-network-events")
    drifted = cli("drift")
    assert drifted.exit_code == 4, drifted.output
    assert "= paused   kubernetes/ingestion-dev/salam-dev-network-events" in drifted.output
    assert "paused by an operator outside Salam; the next apply resumes it" in drifted.output
    assert "~ suspend: live true, config false" in drifted.output
    assert "0 modified, 0 missing, 0 orphan, 0 foreign, 1 paused." in drifted.output
    dry = cli("--dry-run", "--exit-code")
    assert dry.exit_code == 4 and "~ suspend: true -> false" in dry.output
    assert cli().exit_code == 0
    spec = k8s.emulator.objects[CRONJOBS, NS, "salam-dev-network-events"].raw["spec"]
    assert spec["suspend"] is False
    assert cli("drift").exit_code == 0


def foreign_cronjob(
    k8s: EmulatorServer,
    name: str,
    container: dict[str, Any] | None = None,
    **spec: Any,
) -> None:
    """Someone else's CronJob (no Salam labels) holding ``name``, as kubectl applies it;
    ``spec`` adds CronJob spec fields (``timeZone``, ``suspend`` …)."""
    configuration = client.Configuration()
    configuration.host = k8s.url
    api = client.BatchV1Api(client.ApiClient(configuration))
    container = container or {"name": "theirs", "image": "busybox"}
    manifest = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": name, "namespace": NS, "labels": {"team": "billing"}},
        "spec": {
            "schedule": "0 9 * * *",
            **spec,
            "jobTemplate": {
                "spec": {
                    "template": {"spec": {"restartPolicy": "Never", "containers": [container]}}
                }
            },
        },
    }
    body = client.V1CronJob.from_dict(manifest)
    assert body is not None
    api.create_namespaced_cron_job(NS, body)


def test_a_foreign_cronjob_on_a_jobs_name_is_never_in_sync_and_never_touched(
    kubeconfig: Path, k8s: EmulatorServer, project: Callable[..., Path]
) -> None:
    root = project("dev")
    config = root / JOBS / "network_events.yaml"
    assert dev_cli(root, kubeconfig)().exit_code == 0  # network_events: created, in sync
    foreign_cronjob(k8s, "salam-dev-network-events-eu")
    (root / JOBS / "network_events_eu.yaml").write_text(
        clone_job(config.read_text(), "network_events", "network_events_eu")
    )
    cli = dev_cli(root, kubeconfig)
    foreign = "kubernetes/ingestion-dev/salam-dev-network-events-eu"
    original = k8s.emulator.objects[CRONJOBS, NS, "salam-dev-network-events-eu"].raw
    before = writes(k8s)
    dry = cli("--dry-run", "--exit-code")
    assert dry.exit_code == 4, dry.output
    assert "in sync" not in dry.output
    assert f"! {foreign}" in dry.output and "not managed by Salam" in dry.output
    assert "0 to create, 0 to update, 0 to delete; 1 conflict blocks applying." in dry.output
    applied = cli()
    assert applied.exit_code == 1, applied.output
    assert f"not applying: {foreign} exist(s) but are not managed by Salam" in applied.output
    assert "or take it over in place: adopt: true in the job config (or --adopt)" in applied.output
    drifted = cli("drift", "--output", "json")
    assert drifted.exit_code == 4, drifted.output
    assert [(f["kind"], f["key"], f["job"]) for f in json.loads(drifted.stdout)["findings"]] == [
        ("foreign", foreign, "network_events_eu")
    ]
    assert writes(k8s) == before
    assert k8s.emulator.objects[CRONJOBS, NS, "salam-dev-network-events-eu"].raw == original


def test_a_moved_namespace_is_cleaned_up_through_the_inventory(
    kubeconfig: Path, k8s: EmulatorServer, project: Callable[..., Path]
) -> None:
    """The config moves dev's CronJobs to another namespace: drift sees the one left behind
    (orphan), the next reconcile creates it in the new namespace and deletes the old one."""
    root = project("dev")
    run = dev_cli(root, kubeconfig)
    assert run().exit_code == 0
    assert (CRONJOBS, NS, "salam-dev-network-events") in k8s.emulator.objects
    settings = root / "environments/dev/environment.yaml"
    old = f"kubernetes:\n  context: qa-shared\n  namespace: {NS}"
    assert old in settings.read_text()
    settings.write_text(settings.read_text().replace(old, old.replace(NS, "ingestion-dev2")))
    run_moved = dev_cli(root, kubeconfig)
    drift = run_moved("drift", "--output", "json")
    assert drift.exit_code == 4, drift.output
    kinds = {f["key"]: f["kind"] for f in json.loads(drift.stdout)["findings"]}
    assert kinds[f"kubernetes/{NS}/salam-dev-network-events"] == "orphan"
    assert kinds["kubernetes/ingestion-dev2/salam-dev-network-events"] == "missing"
    applied = run_moved()
    assert applied.exit_code == 0, applied.output
    assert k8s.emulator.objects[CRONJOBS, NS, "salam-dev-network-events"].deleted
    assert not k8s.emulator.objects[CRONJOBS, "ingestion-dev2", "salam-dev-network-events"].deleted
    assert run_moved("--dry-run", "--exit-code").exit_code == 0
