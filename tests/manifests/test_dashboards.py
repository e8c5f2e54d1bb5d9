"""The Grafana dashboards and the alerting rules, asked of promtool: every dashboard expression
parses (written out as recording rules for ``promtool check rules``) and reads only families the
controller and the worker serve (the worker's ``temporal_*`` ones are checked against a real
scrape in tests/ingestion/worker/test_observe.py); the alerting rules pass ``promtool check
rules`` and their unit tests (``promtool test rules``)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from ingestion.worker import outcomes
from reconciler import metrics
from tests import promtool as tool
from tests.conftest import ROOT, TESTDATA
from tests.manifests import dashboards

ALERTS = ROOT / "manifests/monitoring/alerts.yaml"
SERVED = {m.name for m in metrics.CONTROLLER} | {outcomes.METRIC.name}


def test_there_are_dashboards_for_schedule_health_and_workflow_outcomes() -> None:
    assert [p.name for p in dashboards.DASHBOARDS] == [
        "schedule-health.json",
        "workflow-outcomes.json",
    ]


def test_dashboards_read_only_served_salam_families() -> None:
    assert dashboards.metric_names("salam_") <= SERVED
    assert dashboards.metric_names("salam_")  # the regex finds them at all


@pytest.mark.parametrize("path", dashboards.DASHBOARDS, ids=lambda p: p.name)
def test_every_dashboard_expression_parses(path: Path, promtool: Path, tmp_path: Path) -> None:
    rules = [
        {"record": f"salam:dashboard:{i}", "expr": dashboards.promql(expression)}
        for i, (_, expression) in enumerate(dashboards.expressions(path))
    ]
    (tmp_path / "rules.yaml").write_text(
        yaml.safe_dump({"groups": [{"name": path.stem, "rules": rules}]})
    )
    tool.run(promtool, "check", "rules", "rules.yaml", cwd=tmp_path)


def test_every_panel_is_described_in_the_docs() -> None:
    page = (ROOT / "docs/guides/dashboards.md").read_text()
    for path in dashboards.DASHBOARDS:
        for title, _ in dashboards.expressions(path):
            assert f"**{title}**" in page, title


def test_alerting_rules_check_and_pass_their_unit_tests(promtool: Path, tmp_path: Path) -> None:
    names = set(re.findall(r"\b(salam_[a-z0-9_]+)", ALERTS.read_text()))
    assert names <= SERVED
    shutil.copy(ALERTS, tmp_path / "alerts.yaml")
    shutil.copy(TESTDATA / "monitoring/alerts_test.yaml", tmp_path)
    tool.run(promtool, "check", "rules", "alerts.yaml", cwd=tmp_path)
    tool.run(promtool, "test", "rules", "alerts_test.yaml", cwd=tmp_path)
