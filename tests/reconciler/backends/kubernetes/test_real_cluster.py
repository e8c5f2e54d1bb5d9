"""The same round trip against a real cluster (kind, a staging cluster …) when ``KUBECONFIG``
points at one; skipped otherwise. Works in a throw-away namespace (``SALAM_TEST_NAMESPACE``,
default ``salam-test-<random>``) that it creates and deletes; ``SALAM_TEST_CONTEXT`` picks a
context (default: the kubeconfig's current one)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from kubernetes import client, config

from ingestion.config.loader import Environment, load_environment
from tests.conftest import ROOT
from tests.reconciler.backends.kubernetes.conftest import clone_plan, kubernetes_plans, reconcile

pytestmark = pytest.mark.skipif(
    not os.environ.get("KUBECONFIG"), reason="KUBECONFIG does not point at a cluster"
)


@pytest.fixture
def cluster_env() -> Iterator[Environment]:
    kubeconfig = os.environ["KUBECONFIG"].split(os.pathsep)[0]
    _, active = config.list_kube_config_contexts(config_file=kubeconfig)
    context = os.environ.get("SALAM_TEST_CONTEXT") or active["name"]
    namespace = os.environ.get("SALAM_TEST_NAMESPACE") or f"salam-test-{uuid.uuid4().hex[:8]}"
    core = client.CoreV1Api(config.new_client_from_config(kubeconfig, context))
    created = False
    try:
        core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=namespace)))
        created = True
    except client.ApiException as exc:
        if exc.status != 409:
            raise
    try:
        yield load_environment(
            ROOT,
            "dev",
            [
                f"kubernetes.kubeconfig={kubeconfig}",
                f"kubernetes.context={context}",
                f"kubernetes.namespace={namespace}",
            ],
        )
    finally:
        if created:
            core.delete_namespace(namespace)


def test_round_trip_on_a_real_cluster(cluster_env: Environment) -> None:
    plans = kubernetes_plans(cluster_env)
    assert plans and plans[0]["kubernetes"]["namespace"].startswith(
        os.environ.get("SALAM_TEST_NAMESPACE", "salam-test-")
    )
    created = reconcile(cluster_env, plans)
    assert created.ok and [v for v, _ in created.summary()] == ["create"], created.results
    assert reconcile(cluster_env, plans).changes.empty  # the server's defaults never show
    changed = [clone_plan(plans[0], plans[0]["job"], cron="5 4 * * *")]
    updated = reconcile(cluster_env, changed)
    assert updated.ok and [f.path for f in updated.changes.pending()[0].fields] == ["schedule"]
    assert reconcile(cluster_env, changed).changes.empty
    deleted = reconcile(cluster_env, [])
    assert deleted.ok and [v for v, _ in deleted.summary()] == ["delete"]
