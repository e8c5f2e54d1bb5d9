"""Rendering and normalisation: names, the manifest ↔ canonical spec round trip, redaction."""

from __future__ import annotations

import re
from typing import Any

import kubernetes_validate
from hypothesis import given
from hypothesis import strategies as st

from ingestion.config.loader import load_environment
from ingestion.plan.environment import render_all
from reconciler import diff
from reconciler.backends.kubernetes import normalize, render
from tests.conftest import ROOT
from tests.reconciler.backends.kubernetes.conftest import clone_plan
from tests.reconciler.backends.kubernetes.emulator import _defaulted

DNS1123 = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
PLAN = next(
    p
    for p in render_all(load_environment(ROOT, "prod"), with_git=False).values()
    if p["mode"] == "kubernetes"
)


@given(
    env=st.from_regex(r"^[a-z][a-z0-9-]{0,30}$", fullmatch=True),
    job=st.from_regex(r"^[a-z][a-z0-9_]{0,62}$", fullmatch=True),
)
def test_names_are_dns1123_short_enough_and_distinct(env: str, job: str) -> None:
    name = render.cronjob_name(env, job)
    assert DNS1123.match(name) and len(name) <= render.MAX_NAME
    if len(f"salam-{env}-{job}") > render.MAX_NAME:
        assert name != render.cronjob_name(env, job + "x")


def test_short_names_are_readable() -> None:
    assert render.cronjob_name("prod", "network_events") == "salam-prod-network-events"
    long = render.cronjob_name("prod", "a" * 60)
    assert len(long) == render.MAX_NAME and long.startswith("salam-prod-aaaa")


def test_manifest_validates_against_the_kubernetes_schema() -> None:
    manifest = render.manifest(render.desired(PLAN), "prod")
    kubernetes_validate.validate(manifest, "1.33", strict=True)


@given(
    cron=st.sampled_from(["*/5 * * * *", "0 3 * * 1-5"]),
    suspend=st.none() | st.booleans(),
    tz=st.sampled_from(["UTC", "Asia/Kolkata"]),
    backoff=st.integers(0, 10),
)
def test_canonical_of_the_served_manifest_is_the_desired_spec(
    cron: str, suspend: bool | None, tz: str, backoff: int
) -> None:
    """Round trip; a ``suspend`` the config does not set (None) is created running and then
    kept as live, so the served object is in sync either way."""
    plan = clone_plan(PLAN, "some_job", cron=cron, timezone=tz)
    plan["kubernetes"].update(suspend=suspend, backoff_limit=backoff)
    resource = render.desired(plan)
    served = _defaulted(render.manifest(resource, "prod"))
    served["status"] = {"lastScheduleTime": "2026-01-01T00:00:00Z"}
    served["metadata"].update(uid="u", resourceVersion="9", managedFields=[{}])
    live = normalize.canonical(served)
    assert live == {**resource.spec, "suspend": bool(suspend)}
    assert diff.keep_unmanaged(resource.spec, live) == live
    marker = {render.SUSPEND_META: "true" if suspend else "false"}
    assert normalize.meta(served) == {**resource.meta, **marker}
    assert not normalize.paused(served)
    assert normalize.owned(served, "prod") and not normalize.owned(served, "uat")


def test_live_only_values_are_shown_hashed_and_never_as_text() -> None:
    resource = render.desired(PLAN)
    served: dict[str, Any] = render.manifest(resource, "prod")
    container = served["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    container["env"].append({"name": "JDBC_PASSWORD_LITERAL", "value": "hunter2"})
    canonical = normalize.canonical(served)
    assert "hunter2" not in repr(canonical)
    assert canonical["env"][-1]["value_sha256"]
    assert "hunter2" not in repr(
        render.manifest(
            resource.__class__(resource.key, resource.job, canonical, resource.meta), "prod"
        )
    )
