"""The PromQL of the Grafana dashboards (manifests/dashboards/*.json) and the metric names it
reads, for the tests of the dashboards and of the endpoints that must serve those names."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.conftest import ROOT

DASHBOARDS = sorted((ROOT / "manifests/dashboards").glob("*.json"))
NAME = re.compile(r"\b((?:salam|temporal)_[a-z0-9_]+)")
HISTOGRAM = re.compile(r"_(bucket|sum|count)$")
GRAFANA = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "1h"}


def expressions(path: Path) -> Iterator[tuple[str, str]]:
    """(panel title, expression) of every target of every panel."""
    document: dict[str, Any] = json.loads(path.read_text())
    for panel in document["panels"]:
        for target in panel.get("targets", []):
            yield panel["title"], target["expr"]


def promql(expression: str) -> str:
    """The expression as Prometheus reads it: Grafana's interval variables given values."""
    for variable, value in GRAFANA.items():
        expression = expression.replace(variable, value)
    return expression


def metric_names(prefix: str = "") -> set[str]:
    """The families the dashboards read (a histogram's _bucket/_sum/_count as its family)."""
    return {
        HISTOGRAM.sub("", name)
        for path in DASHBOARDS
        for _, expression in expressions(path)
        for name in NAME.findall(expression)
        if name.startswith(prefix)
    }
