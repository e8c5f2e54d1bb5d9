"""The secret scan's pre-selection (:mod:`reconciler.policy.prescan`): what it keeps, and that
the policies decide the same with it as walking the whole input."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.policy import files, prescan, rego
from tests.conftest import ROOT

PARAMS = files.load_params(ROOT / "policies", "dev")

DOCUMENTS: list[dict[str, Any]] = [
    {"job": {"name": "j", "source": {"password": "hunter2", "password_ref": "env:X"}}},
    {"job": {"name": "j", "PassWord": "x", "Pässword": "y", "note": "ünïcode=ok"}},
    {"job": {"name": "j", "hooks": ["https://hooks.slack.com/services/T0/B0/x", "plain"]}},
    {
        "job": {
            "name": "j",
            "deep": [[{"token": "abc"}], {"list": ["eyJabcdefghijk.eyJabcdefghijk."]}],
        }
    },
    {"job": {"name": "j", "url_ref": "ftp://u:p@host/x", "url": "ftp://u:p@host/x"}},
    {"job": {"name": "j", "n": 1, "b": True, "none": None, "s": "nothing to see"}},
    {"job": [{"api_key": "k"}, "AKIAABCDEFGHIJKLMNOP"], "plan": "ghp_not_an_object"},
    {"job": {"name": "j"}, "plan": {"job": "j", "cmd": ["--x", "a?token=t0ken&b=1", "--y"]}},
    {"job": {"name": "j", "note": "?token=\x0bx", "url": "https://u:p\x1c@h/", "pem": "x=y"}},
]


@pytest.mark.parametrize("document", DOCUMENTS)
def test_secret_scan_decides_like_the_whole_input(document: dict[str, Any]) -> None:
    bundle = rego.Bundle(ROOT / "policies", PARAMS)
    scan = prescan.Scanner(bundle.params).scan(document)
    assert scan is not None
    with_scan = bundle.query(rego.JOB_ENTRYPOINT, {**document, prescan.SCAN_KEY: scan})
    whole = bundle.query(rego.JOB_ENTRYPOINT, document)
    assert with_scan == whole
    assert whole["secrets"]["deny"] or document["job"].get("n") == 1  # the cases find something


def test_secret_scan_keeps_only_what_can_match() -> None:
    document = {
        "job": {
            "owner": "team",
            "source": {"password": "hunter2", "fetchsize": 10, "jdbc_url": "jdbc:sqlite:x"},
            "alerts": {"email": ["ops@example.com", "nobody"]},
        },
        "plan": {"cmd": ["spark-submit", "--conf", "a=b"]},
    }
    assert prescan.Scanner(PARAMS).scan(document) == {
        "job": {"source": {"password": "hunter2"}},
        "plan": {},
    }
    document["plan"]["cmd"].append("http://u:p@h/")
    assert prescan.Scanner(PARAMS).scan(document)["plan"] == {
        "cmd": [None, None, None, "http://u:p@h/"]
    }


def test_unexpected_policy_data_prunes_nothing() -> None:
    assert prescan.Scanner({"secrets": {"scan": ["job"], "keys": "x"}}).scan({"job": {}}) is None
    assert prescan.Scanner({}).scan({"job": {}}) is None


def test_a_needle_without_its_shape_is_left_out_unless_python_may_read_it_otherwise() -> None:
    job = {
        "a": "x=1",  # the needle of a password parameter, not its shape
        "b": "?token=abc",  # both
        "c": "?token=\x0babc",  # a vertical tab: \s to Python only, so Rego decides
        "d": "eyJ only",
    }
    assert prescan.Scanner(PARAMS).scan({"job": job}) == {"job": {"b": "?token=abc", "c": job["c"]}}


@pytest.mark.parametrize(
    ("pattern", "shared"),
    [
        ("AKIA[0-9A-Z]{16}", True),
        ("[A-Za-z][A-Za-z0-9+.-]*://[^/\\s:@]+:[^/\\s@]+@", True),
        ("(?i)secret", False),  # flags
        ("secret$", False),  # Python's $ also matches before a final newline
        ("(a)\\1", False),  # a back-reference
        ("\\d{4}", False),  # an escape outside the shared set
    ],
)
def test_python_reads_only_the_shared_regex_syntax(pattern: str, shared: bool) -> None:
    assert (prescan._python_regex(pattern) is not None) is shared
