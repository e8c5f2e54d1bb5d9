"""The sync policy: defaults per environment, Argo CD's window semantics, capped back-off."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ingestion.config import loader
from reconciler.controller import policy

MONDAY_2200 = datetime(2026, 12, 7, 22, 0, tzinfo=UTC)  # a Monday


def _policy(*windows: dict[str, str], **sync: object) -> policy.SyncPolicy:
    return policy.of("dev", {"sync": {**sync, "windows": list(windows)}}, ("prod",))


def test_defaults_detect_for_protected_environments_apply_elsewhere() -> None:
    prod = policy.of("prod", {}, ("prod",))
    dev = policy.of("dev", {}, ("prod",))
    assert prod.mode is policy.Mode.DETECT and dev.mode is policy.Mode.APPLY
    assert (dev.self_heal, dev.prune, dev.interval, dev.max_backoff) == (False, True, 180, 600)
    assert policy.source_of({}) == ("origin", "main")


def test_no_window_allows_a_deny_window_blocks_while_open() -> None:
    assert _policy().may_apply(MONDAY_2200) == (True, "")
    deny = {"kind": "deny", "schedule": "0 22 * * 1-5", "duration": "1h"}
    allowed, why = _policy(deny).may_apply(MONDAY_2200.replace(minute=59))
    assert not allowed and "deny window open" in why
    assert _policy(deny).may_apply(MONDAY_2200.replace(hour=23))[0]  # closed at 23:00
    assert _policy(deny).may_apply(MONDAY_2200.replace(hour=21, minute=59))[0]


def test_allow_windows_allow_only_while_one_is_open_and_deny_wins() -> None:
    allow = {"kind": "allow", "schedule": "0 22 * * *", "duration": "2h"}
    assert _policy(allow).may_apply(MONDAY_2200.replace(hour=23, minute=30))[0]
    allowed, why = _policy(allow).may_apply(MONDAY_2200.replace(hour=12))
    assert not allowed and why == "outside every allow window"
    deny = {"kind": "deny", "schedule": "30 23 * * *", "duration": "10m"}
    assert not _policy(allow, deny).may_apply(MONDAY_2200.replace(hour=23, minute=35))[0]


def test_a_window_in_another_time_zone() -> None:
    kolkata = {
        "kind": "deny",
        "schedule": "0 3 * * *",
        "duration": "1h",
        "timezone": "Asia/Kolkata",
    }
    assert not _policy(kolkata).may_apply(datetime(2026, 12, 7, 21, 45, tzinfo=UTC))[0]
    assert _policy(kolkata).may_apply(datetime(2026, 12, 7, 22, 45, tzinfo=UTC))[0]


def test_back_off_doubles_from_the_interval_up_to_the_cap() -> None:
    sync = _policy(interval="10s", max_backoff="1m")
    assert [sync.backoff(n) for n in range(6)] == [10, 10, 20, 40, 60, 60]


def test_validate_checks_the_windows_cron_and_zone(project: Callable[..., Path]) -> None:
    root = project("dev")
    good = '[{kind: allow, schedule: "0 22 * * 1-5", duration: 2h, timezone: Europe/Paris}]'
    environment = loader.load_environment(root, "dev", [f"sync.windows={good}", "sync.mode=detect"])
    assert policy.of("dev", environment.settings, ()).windows[0].timezone == "Europe/Paris"
    bad = '[{kind: deny, schedule: "61 * * * *", duration: 1h, timezone: Mars/Base}]'
    with pytest.raises(loader.InvalidEnvironment) as raised:
        loader.load_environment(root, "dev", [f"sync.windows={bad}"])
    found = {(d.code, d.path) for d in raised.value.diagnostics}
    assert ("invalid-cron", "$.sync.windows[0].schedule") in found
    assert ("invalid-timezone", "$.sync.windows[0].timezone") in found
