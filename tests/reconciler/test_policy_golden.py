"""Policy decisions as golden files: every finding (rule id, message, location, JSON path,
severity, waived or not, and the waiver) over each shipped environment and over the generated
1,000-job environment of the scale bench (:mod:`tests.scale_environment`), so that work on how
the policies are evaluated (one thread or several) cannot change what they decide.
``SALAM_UPDATE_GOLDEN=1`` rewrites the files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reconciler import policy
from reconciler.policy import evaluation
from tests import scale_environment
from tests.conftest import ROOT, TESTDATA, assert_golden
from tests.reconciler.policy_helpers import load

GOLDEN = TESTDATA / "policy" / "findings"


@pytest.fixture(autouse=True)
def _fresh_bundles() -> None:
    policy.clear_cache()


def findings_json(root: Path, env: str) -> str:
    """Every finding of ``env`` under ``root``, standing and waived, as canonical JSON text."""
    environment, rendered = load(root, env)
    report = policy.check(environment, rendered)
    found = [{**d.to_json(), "waived": False} for d in report.diagnostics]
    found += [{**w.to_json(), "waived": True} for w in report.waived]
    return json.dumps(found, indent=1, sort_keys=True) + "\n"


@pytest.mark.parametrize("env", ["dev", "uat", "prod"])
def test_shipped_environment_findings(env: str) -> None:
    assert_golden(findings_json(ROOT, env), GOLDEN / f"{env}.json")


@pytest.mark.parametrize("threads", [1, 3])
def test_generated_environment_findings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, threads: int
) -> None:
    # the same findings, in the same order, whether one thread evaluates the jobs or several
    monkeypatch.setattr(evaluation, "_threads", lambda jobs: threads)
    root = scale_environment.make_project(tmp_path, 1000)
    text = findings_json(root, scale_environment.ENV)
    assert_golden(text, GOLDEN / "generated_1000.json")
    found = json.loads(text)
    assert {f["code"] for f in found} == {"SALAM-OWNER-UNKNOWN", "SALAM-SECRET-VALUE"}
    assert any(f["waived"] for f in found) and not all(f["waived"] for f in found)
