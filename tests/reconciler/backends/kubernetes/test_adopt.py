"""Adopting a CronJob applied with kubectl, against the emulator, through the CLI: with
``adopt: true`` in the job config one apply takes it over in place — one PUT, the same uid, Salam's
labels added, the fields the job sets written, an operator's ``suspend`` kept — and the next run
is in sync; without it, it stays the conflict it was (covered in ``test_cli``)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import kmock

from reconciler.backends.kubernetes import render
from tests.conftest import clone_job
from tests.reconciler.backends.kubernetes.emulator import EmulatorServer, Fault
from tests.reconciler.backends.kubernetes.test_cli import JOBS, NS, dev_cli, foreign_cronjob, writes

CRONJOBS = kmock.resource("batch", "v1", "cronjobs")
NAME = "salam-dev-network-events-eu"
FOREIGN = f"kubernetes/{NS}/{NAME}"


def _adopting(root: Path) -> None:
    config = root / JOBS / "network_events.yaml"
    text = clone_job(config.read_text(), "network_events", "network_events_eu")
    assert "    mode: kubernetes\n" in text
    text = text.replace("    mode: kubernetes\n", "    mode: kubernetes\n    adopt: true\n")
    (root / JOBS / "network_events_eu.yaml").write_text(text)


def test_adopt_takes_a_kubectl_cronjob_over_in_place(
    kubeconfig: Path, k8s: EmulatorServer, project: Callable[..., Path]
) -> None:
    root = project("dev")
    cli = dev_cli(root, kubeconfig)
    assert cli().exit_code == 0
    foreign_cronjob(k8s, NAME)
    k8s.emulator.objects[CRONJOBS, NS, NAME].raw["spec"]["suspend"] = True  # its operator's
    uid = k8s.emulator.objects[CRONJOBS, NS, NAME].raw["metadata"]["uid"]
    _adopting(root)
    dry = cli("--dry-run", "--output", "json")
    assert dry.exit_code == 0, dry.output
    changes = json.loads(dry.stdout)["change_set"]["changes"]
    assert [(c["key"], c["action"], c["symbol"]) for c in changes] == [(FOREIGN, "adopt", "<=")]
    assert "schedule" in {f["path"] for f in changes[0]["fields"]}
    before = writes(k8s)
    applied = cli()
    assert applied.exit_code == 0, applied.output
    assert f"<= {FOREIGN}: adopted" in applied.output
    assert writes(k8s)[len(before) :] == [f"method.PUT {NAME}"]  # replaced, never deleted/recreated
    raw = k8s.emulator.objects[CRONJOBS, NS, NAME].raw
    assert raw["metadata"]["uid"] == uid
    labels = raw["metadata"]["labels"]
    assert labels[render.MANAGED_BY] == "salam" and labels[render.JOB_LABEL] == "network_events_eu"
    assert raw["spec"]["suspend"] is True  # the config does not set suspend: kept
    again = cli("--dry-run", "--exit-code")
    assert again.exit_code == 0, again.output
    assert "in sync" in again.output


def test_an_adopt_rolled_back_gives_the_cronjob_back_without_salams_labels(
    kubeconfig: Path, k8s: EmulatorServer, project: Callable[..., Path]
) -> None:
    root = project("dev")
    cli = dev_cli(root, kubeconfig)
    assert cli().exit_code == 0
    foreign_cronjob(k8s, NAME)
    theirs = k8s.emulator.objects[CRONJOBS, NS, NAME].raw
    uid, schedule = theirs["metadata"]["uid"], theirs["spec"]["schedule"]
    _adopting(root)
    (root / JOBS / "network_events.yaml").unlink()  # its CronJob's delete comes after the adopt
    gone = "salam-dev-network-events"
    k8s.emulator.faults.append(Fault("DELETE", 403, times=None, name=gone, reason="Forbidden"))

    failed = cli("--allow-empty")  # its only CronJob of old goes: allowed

    assert failed.exit_code == 1, failed.output
    assert f"<= {FOREIGN}: adopted" in failed.output
    assert f"=> {FOREIGN}: given back as it was before the adopt, not Salam's" in failed.output
    raw = k8s.emulator.objects[CRONJOBS, NS, NAME].raw
    assert raw["metadata"]["uid"] == uid and raw["spec"]["schedule"] == schedule
    assert render.MANAGED_BY not in (raw["metadata"].get("labels") or {})
    k8s.emulator.faults.clear()
    again = cli("--dry-run", "--exit-code")  # not Salam's: to adopt again, not to update
    assert again.exit_code == 4 and f"<= {FOREIGN}  (adopt, job" in again.output, again.output
