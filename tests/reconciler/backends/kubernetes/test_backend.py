"""The Kubernetes backend against the extended kmock emulator, through the real client.

Each test drives the backend through its Protocol (render → read → diff → apply), as the engine
does, and inspects the emulator's stored objects and served requests.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import kmock
import pytest
from kubernetes import client, config

from ingestion.config.loader import Environment
from reconciler import diff
from reconciler.backends import base
from reconciler.backends.kubernetes import render
from reconciler.model import Action, Change, LiveResource, ResultStatus
from tests.reconciler.backends.kubernetes.conftest import clone_plan, kubernetes_plans, reconcile
from tests.reconciler.backends.kubernetes.emulator import EmulatorServer, Fault

CRONJOBS = kmock.resource("batch", "v1", "cronjobs")
NS = "ingestion-dev"
NAME = "salam-dev-network-events"
Load = Callable[..., Environment]


def stored(k8s: EmulatorServer, name: str = NAME, namespace: str = NS) -> dict[str, Any]:
    return k8s.emulator.objects[CRONJOBS, namespace, name].raw


def batch_api(k8s: EmulatorServer) -> client.BatchV1Api:
    """An operator's client (kubectl's stand-in) for hand edits."""
    configuration = client.Configuration()
    configuration.host = k8s.url
    return client.BatchV1Api(client.ApiClient(configuration))


def hand_patch(k8s: EmulatorServer, body: dict[str, Any], name: str = NAME) -> None:
    batch_api(k8s).patch_namespaced_cron_job(
        name, NS, body, _content_type="application/merge-patch+json"
    )


def foreign_cronjob(k8s: EmulatorServer, name: str, labels: dict[str, str]) -> None:
    manifest = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": name, "namespace": NS, "labels": labels},
        "spec": {
            "schedule": "0 0 * * *",
            "jobTemplate": {
                "spec": {
                    "template": {
                        "spec": {
                            "restartPolicy": "Never",
                            "containers": [{"name": "x", "image": "busybox"}],
                        }
                    }
                }
            },
        },
    }
    body = client.V1CronJob.from_dict(manifest)
    assert body is not None
    batch_api(k8s).create_namespaced_cron_job(NS, body)


def test_create_renders_every_owned_field_and_reads_back_in_sync(
    environment: Load, k8s: EmulatorServer
) -> None:
    env = environment("dev")
    plans = kubernetes_plans(env)
    first = reconcile(env, plans)
    assert first.ok, first.results
    assert first.summary() == [("create", NAME)]
    obj = stored(k8s)
    assert obj["metadata"]["labels"] == {
        render.MANAGED_BY: "salam",
        render.ENVIRONMENT_LABEL: "dev",
        render.JOB_LABEL: "network_events",
    }
    notes = obj["metadata"]["annotations"]
    assert notes[render.DIGEST] == plans[0]["bookkeeping"]["digest"]
    assert notes[render.CONFIG_PATH] == "environments/dev/jobs/network_events.yaml"
    spec = obj["spec"]
    assert (spec["schedule"], spec["timeZone"], spec["concurrencyPolicy"]) == (
        "*/30 * * * *",
        "UTC",
        "Forbid",
    )
    assert (spec["suspend"], spec["startingDeadlineSeconds"]) == (False, 600)
    pod = spec["jobTemplate"]["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == "salam-ingest"
    container = pod["containers"][0]
    assert container["command"] == [
        "ingest",
        "run",
        "--config",
        "environments/dev/jobs/network_events.yaml",
    ]
    assert container["env"][1] == {
        "name": "JDBC_PASSWORD",
        "valueFrom": {"secretKeyRef": {"name": "miniboss-jdbc", "key": "password"}},
    }
    assert all("value" not in item for item in container["env"])
    assert obj["metadata"]["uid"] and obj["metadata"]["resourceVersion"]
    second = reconcile(env, plans)
    assert second.changes.empty, second.changes
    assert second.changes.count(Action.NOOP) == 1


def test_update_replaces_with_resource_version_then_no_diff(
    environment: Load, k8s: EmulatorServer
) -> None:
    env = environment("dev")
    plans = kubernetes_plans(env)
    reconcile(env, plans)
    before = stored(k8s)["metadata"]
    changed = [clone_plan(plans[0], "network_events", cron="5 * * * *")]
    run = reconcile(env, changed)
    assert run.ok, run.results
    assert run.summary() == [("update", NAME)]
    assert [f.path for f in run.changes.pending()[0].fields] == ["schedule"]
    after = stored(k8s)["metadata"]
    assert after["uid"] == before["uid"] and after["generation"] == before["generation"] + 1
    assert len(k8s.requests("PUT")) == 1
    assert reconcile(env, changed).changes.empty


def test_delete_with_prune_and_not_without(environment: Load, k8s: EmulatorServer) -> None:
    env = environment("dev")
    reconcile(env, kubernetes_plans(env))
    assert reconcile(env, [], prune=False).changes.empty
    run = reconcile(env, [])
    assert run.ok and run.summary() == [("delete", NAME)]
    assert k8s.emulator.objects[CRONJOBS, NS, NAME].deleted
    assert reconcile(env, []).changes.empty


def test_hand_edit_is_field_drift_and_corrected(environment: Load, k8s: EmulatorServer) -> None:
    env = environment("dev")
    plans = kubernetes_plans(env)
    reconcile(env, plans)
    hand_patch(k8s, {"spec": {"schedule": "0 3 * * *"}})
    drift = reconcile(env, plans, apply=False)
    [change] = drift.changes.pending()
    assert change.action is Action.UPDATE
    assert [f.path for f in change.fields] == ["schedule"]
    assert change.before is not None and not change.before.paused
    fixed = reconcile(env, plans)
    assert fixed.ok, fixed.results
    assert stored(k8s)["spec"]["schedule"] == "*/30 * * * *"
    assert reconcile(env, plans).changes.empty


def with_suspend(
    plan: Mapping[str, Any], suspend: bool | None, cron: str | None = None
) -> dict[str, Any]:
    """``plan`` as rendered from a config that sets (or, with None, omits) ``suspend``."""
    changed = clone_plan(plan, plan["job"], **({"cron": cron} if cron else {}))
    changed["kubernetes"]["suspend"] = suspend
    return changed


def live_one(env: Environment, plan: Mapping[str, Any]) -> LiveResource:
    backend = base.create("kubernetes", env)
    with backend:
        backend.render(plan)
        [live] = backend.read()
    return live


def test_a_hand_suspend_is_a_pause_kept_by_every_apply(
    environment: Load, k8s: EmulatorServer
) -> None:
    """The config does not set suspend: an operator's suspend is paused, never a difference,
    and an apply of another change keeps it suspended (the next read is still in sync)."""
    env = environment("dev")
    [plan] = kubernetes_plans(env)
    assert plan["kubernetes"]["suspend"] is None
    assert reconcile(env, [plan]).ok
    hand_patch(k8s, {"spec": {"suspend": True}})
    run = reconcile(env, [plan])
    assert run.changes.in_sync and not k8s.requests("PUT")
    assert live_one(env, plan).paused is True
    moved = with_suspend(plan, None, cron="5 * * * *")
    run = reconcile(env, [moved])
    assert run.ok and [f.path for f in run.changes.pending()[0].fields] == ["schedule"]
    assert (stored(k8s)["spec"]["schedule"], stored(k8s)["spec"]["suspend"]) == ("5 * * * *", True)
    assert live_one(env, moved).paused is True
    assert reconcile(env, [moved]).changes.in_sync


def test_config_suspend_false_resumes_a_hand_suspend(
    environment: Load, k8s: EmulatorServer
) -> None:
    env = environment("dev")
    plan = with_suspend(kubernetes_plans(env)[0], False)
    reconcile(env, [plan])
    hand_patch(k8s, {"spec": {"suspend": True}})
    [change] = reconcile(env, [plan], apply=False).changes.pending()
    assert [(f.path, f.before, f.after) for f in change.fields] == [("suspend", True, False)]
    assert change.before is not None and change.before.paused
    assert reconcile(env, [plan]).ok
    assert stored(k8s)["spec"]["suspend"] is False
    assert not live_one(env, plan).paused
    assert reconcile(env, [plan]).changes.in_sync


def test_config_suspend_true_is_salams_not_an_operator_pause(
    environment: Load, k8s: EmulatorServer
) -> None:
    env = environment("dev")
    plan = with_suspend(kubernetes_plans(env)[0], False)
    reconcile(env, [plan])
    run = reconcile(env, [with_suspend(plan, True)])
    assert run.ok and [f.path for f in run.changes.pending()[0].fields] == ["suspend"]
    assert stored(k8s)["metadata"]["annotations"][render.CONFIGURED_SUSPEND] == "true"
    live = live_one(env, plan)
    assert live.spec["suspend"] is True and live.paused is False
    silent = with_suspend(plan, None, cron="6 * * * *")  # the config stops saying: kept as is
    assert reconcile(env, [silent]).ok
    assert stored(k8s)["spec"]["suspend"] is True and not live_one(env, silent).paused


def test_a_hand_suspend_racing_an_apply_is_kept(environment: Load, k8s: EmulatorServer) -> None:
    """Suspended between Salam's read and its write: the 409 re-read keeps the suspend."""
    env = environment("dev")
    [plan] = kubernetes_plans(env)
    reconcile(env, [plan])
    moved = with_suspend(plan, None, cron="7 * * * *")
    backend = base.create("kubernetes", env)
    with backend:
        changes = diff.compute("dev", [backend.render(moved)], backend.read()).pending()
        hand_patch(k8s, {"spec": {"suspend": True}})
        [result] = backend.apply(changes)
    assert result.ok, result.error
    assert len(k8s.requests("PUT")) == 2
    assert (stored(k8s)["spec"]["schedule"], stored(k8s)["spec"]["suspend"]) == ("7 * * * *", True)
    assert live_one(env, moved).paused is True


def test_unlabelled_and_other_environment_cronjobs_are_never_touched(
    environment: Load, k8s: EmulatorServer
) -> None:
    env = environment("dev")
    foreign_cronjob(k8s, "hand-made", {})
    foreign_cronjob(
        k8s,
        "salam-uat-network-events",
        {
            render.MANAGED_BY: "salam",
            render.ENVIRONMENT_LABEL: "uat",
            render.JOB_LABEL: "network_events",
        },
    )
    originals = {name: stored(k8s, name) for name in ("hand-made", "salam-uat-network-events")}
    run = reconcile(env, kubernetes_plans(env))
    assert run.ok and run.summary() == [("create", NAME)]
    run = reconcile(env, [])  # prune everything of dev
    assert run.summary() == [("delete", NAME)]
    for name, original in originals.items():
        assert stored(k8s, name) == original
    touched = {r.name for r in k8s.requests() if r.method in ("PUT", "PATCH", "DELETE")}
    assert touched == {NAME}


def test_foreign_object_on_a_desired_name_is_a_conflict_and_refused(
    environment: Load, k8s: EmulatorServer
) -> None:
    env = environment("dev")
    foreign_cronjob(k8s, NAME, {"team": "someone-else"})
    original = stored(k8s)
    drift = reconcile(env, kubernetes_plans(env), apply=False)
    assert [c.key.name for c in drift.changes.conflicts] == [NAME]
    assert drift.changes.conflicts[0].managed is False
    # Even if asked to create over it, the backend refuses and leaves it alone.
    backend = base.create("kubernetes", env)
    with backend:
        desired = backend.render(kubernetes_plans(env)[0])
        [result] = backend.apply(diff.compute("dev", [desired], []).pending())
    assert not result.ok and "does not carry Salam's labels" in result.error
    assert stored(k8s) == original


def test_conflict_from_a_concurrent_edit_is_retried(environment: Load, k8s: EmulatorServer) -> None:
    env = environment("dev")
    plans = kubernetes_plans(env)
    reconcile(env, plans)
    changed = clone_plan(plans[0], "network_events", cron="7 * * * *")
    backend = base.create("kubernetes", env)
    with backend:
        changes = diff.compute("dev", [backend.render(changed)], backend.read()).pending()
        hand_patch(k8s, {"metadata": {"annotations": {"touched": "by-hand"}}})  # bumps version
        [result] = backend.apply(changes)
    assert result.ok, result.error
    assert len(k8s.requests("PUT")) == 2  # 409 on the stale version, then success
    assert stored(k8s)["spec"]["schedule"] == "7 * * * *"
    assert reconcile(env, [changed]).changes.empty


def test_injected_409s_are_retried_a_bounded_number_of_times(
    environment: Load, k8s: EmulatorServer
) -> None:
    env = environment("dev")
    plans = kubernetes_plans(env)
    reconcile(env, plans)
    k8s.emulator.faults.append(Fault("PUT", 409, times=1, reason="Conflict"))
    run = reconcile(env, [clone_plan(plans[0], "network_events", cron="8 * * * *")])
    assert run.ok, run.results
    k8s.emulator.faults.append(Fault("PUT", 409, times=None, reason="Conflict"))
    run = reconcile(env, [clone_plan(plans[0], "network_events", cron="9 * * * *")])
    assert not run.ok and "still conflicting" in run.results[0].error
    assert stored(k8s)["spec"]["schedule"] == "8 * * * *"


def test_forbidden_create_is_a_failed_result_naming_verb_and_namespace(
    environment: Load, k8s: EmulatorServer
) -> None:
    env = environment("dev")
    k8s.emulator.faults.append(Fault("POST", 403, times=None, reason="Forbidden"))
    run = reconcile(env, kubernetes_plans(env))
    [result] = run.results
    assert not result.ok
    assert "cannot create salam-dev-network-events in namespace 'ingestion-dev'" in result.error
    assert "403 Forbidden" in result.error and "context 'kmock'" in result.error


def test_failed_apply_rolls_back_what_was_changed(environment: Load, k8s: EmulatorServer) -> None:
    """The engine's rollback, by hand: re-apply the before-images of what an apply changed."""
    env = environment("dev")
    base_plan = kubernetes_plans(env)[0]
    reconcile(env, [base_plan])
    backend = base.create("kubernetes", env)
    with backend:
        plans = [
            clone_plan(base_plan, "network_events", cron="1 1 * * *"),
            clone_plan(base_plan, "zz_new_job"),
        ]
        live = backend.read()
        changes = diff.compute("dev", [backend.render(p) for p in plans], live).pending()
        k8s.emulator.faults.append(Fault("POST", 403, times=None, reason="Forbidden"))
        results = backend.apply(changes)
        assert [r.ok for r in results] == [False, True]  # creates first: the create failed
        journal = [r.change.before for r in results if r.ok and r.change.before]
        restore = diff.compute(
            "dev", [b.as_desired() for b in journal], backend.read(), prune=False
        ).pending()
        assert all(r.ok for r in backend.apply(restore))
    assert stored(k8s)["spec"]["schedule"] == "*/30 * * * *"
    assert reconcile(env, [base_plan]).changes.empty


def test_api_going_away_mid_apply_fails_cleanly_and_next_run_converges(
    environment: Load, k8s: EmulatorServer
) -> None:
    env = environment("dev")
    base_plan = kubernetes_plans(env)[0]
    plans = [clone_plan(base_plan, f"job_{i}") for i in range(3)]
    k8s.emulator.down_after_writes = 1
    run = reconcile(env, plans)
    assert [r.ok for r in run.results] == [True, False, False]
    assert "API unreachable" in run.results[1].error
    assert run.results[2].status is ResultStatus.SKIPPED
    with pytest.raises(base.BackendError, match="cannot list cronjobs in namespace"):
        reconcile(env, plans)
    k8s.emulator.down = False
    k8s.emulator.down_after_writes = None
    run = reconcile(env, plans)
    assert run.ok and [verb for verb, _ in run.summary()] == ["create", "create"]
    assert reconcile(env, plans).changes.empty


def test_unreachable_cluster_is_a_backend_error_naming_cluster_verb_namespace(
    environment: Load, k8s: EmulatorServer
) -> None:
    env = environment("dev")
    k8s.stop()
    with pytest.raises(base.BackendError) as error:
        reconcile(env, kubernetes_plans(env))
    message = str(error.value)
    assert "cannot list cronjobs in namespace 'ingestion-dev'" in message
    assert f"cluster {k8s.url}" in message and "API unreachable" in message


def test_forbidden_list_is_a_backend_error(environment: Load, k8s: EmulatorServer) -> None:
    env = environment("dev")
    k8s.emulator.faults.append(Fault("GET", 403, times=None, reason="Forbidden"))
    with pytest.raises(base.BackendError, match=r"403 Forbidden.*hint: the service account"):
        reconcile(env, kubernetes_plans(env))
    assert not k8s.requests("POST")


def test_missing_kubeconfig_is_a_backend_error(environment: Load, tmp_path: Any) -> None:
    env = environment("dev", f"kubernetes.kubeconfig={tmp_path / 'nope'}")
    backend = base.create("kubernetes", env)
    with pytest.raises(base.BackendError, match="cannot load the cluster configuration"):
        backend.__enter__()


def test_reads_are_one_labelled_list_call_per_namespace(
    environment: Load, k8s: EmulatorServer
) -> None:
    env = environment("dev")
    base_plan = kubernetes_plans(env)[0]
    plans = [clone_plan(base_plan, f"job_{i:02d}") for i in range(12)]
    reconcile(env, plans)
    k8s.emulator._requests.clear()
    assert reconcile(env, plans).changes.empty
    [listed] = k8s.requests()
    assert listed.params["labelSelector"] == render.selector("dev")


def test_config_module_is_the_only_loader(kubeconfig: Any) -> None:
    """The fixture's kubeconfig is a real one: the official loader accepts it."""
    api = config.new_client_from_config(config_file=str(kubeconfig), context="kmock")
    assert api.configuration.host.startswith("http://127.0.0.1:")


def test_a_move_stopped_before_its_switch_is_reported_not_left_silently_suspended(
    environment: Load, k8s: EmulatorServer
) -> None:
    """A move creates the CronJob suspended and resumes it at the switch; one a killed move
    leaves suspended is the move's suspend, reported as a pause, not the config's (silent)."""
    env = environment("dev")
    plan = with_suspend(kubernetes_plans(env)[0], None)
    backend = base.create("kubernetes", env)
    with backend:
        suspended, resumed = backend.paused(backend.render(plan))
        [created] = backend.apply([Change(suspended.key, Action.CREATE, None, suspended)])
        assert created.ok, created.error
    live = live_one(env, plan)
    assert stored(k8s)["spec"]["suspend"] is True
    assert live.managed and live.paused  # reported as paused drift
    with backend:
        backend.render(plan)
        [done] = backend.apply([Change(resumed.key, Action.UPDATE, live, resumed)])
        assert done.ok, done.error
    assert stored(k8s)["spec"]["suspend"] is False and not live_one(env, plan).paused
    assert reconcile(env, [plan]).changes.empty
