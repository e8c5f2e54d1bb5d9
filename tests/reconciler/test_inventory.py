"""The inventory file: where each applied object lives, and which recorded locations the
config no longer names."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler import inventory
from reconciler.model import Action, Change, DesiredResource, LiveResource, ResourceKey, Result

FILE_TARGET = {"crontab.target": {"file": ".salam/cron/salam-dev.cron"}}
USER_TARGET = {"crontab.target": {"user": "salam"}}
SETTINGS = {"crontab": {"target": {"user": "salam"}, "host_timezone": "UTC"}, "workdir": "."}


def entry(name: str, location: inventory.Location, backend: str = "crontab") -> inventory.Entry:
    return inventory.Entry(ResourceKey(backend, "file:x", name), name, "abc", location)


def test_settings_at_replaces_the_whole_setting_it_names() -> None:
    moved = inventory.settings_at(SETTINGS, FILE_TARGET)
    assert moved["crontab"] == {
        "target": {"file": ".salam/cron/salam-dev.cron"},
        "host_timezone": "UTC",
    }
    assert SETTINGS["crontab"]["target"] == {"user": "salam"}, "the input is not changed"
    assert inventory.settings_at({}, {"temporal.namespace": "x"}) == {
        "temporal": {"namespace": "x"}
    }


def test_elsewhere_lists_only_locations_the_config_left() -> None:
    entries = [
        entry("a", FILE_TARGET),
        entry("b", FILE_TARGET),
        entry("c", USER_TARGET),
        entry("d", {"temporal.namespace": "old"}, backend="temporal"),
    ]
    assert inventory.elsewhere(entries, SETTINGS, ["crontab"]) == [("crontab", FILE_TARGET)]
    assert inventory.elsewhere(entries, SETTINGS, ["crontab", "temporal"]) == [
        ("crontab", FILE_TARGET),
        ("temporal", {"temporal.namespace": "old"}),
    ]


def test_round_trip_and_a_broken_file_is_named(tmp_path: Path) -> None:
    assert inventory.load(tmp_path) == []
    entries = [entry("b", FILE_TARGET), entry("a", USER_TARGET)]
    inventory.save(tmp_path, "dev", entries)
    assert inventory.load(tmp_path) == sorted(entries, key=lambda e: e.key)
    inventory.path(tmp_path).write_text("{not json")
    with pytest.raises(inventory.InventoryError, match=r"inventory\.json"):
        inventory.load(tmp_path)


def test_updated_follows_what_was_read_and_applied() -> None:
    kept, gone, new = (ResourceKey("crontab", "user:salam", n) for n in ("kept", "gone", "new"))
    old = [
        inventory.Entry(gone, "gone", "1", USER_TARGET),
        entry("elsewhere", FILE_TARGET),
    ]
    seen = [(LiveResource(kept, "kept", {}, {"digest": "2"}), USER_TARGET)]
    created = DesiredResource(new, "new", {}, {"digest": "3"})
    deleted = LiveResource(gone, "gone", {})
    failed = DesiredResource(ResourceKey("crontab", "user:salam", "failed"), "failed", {})
    results = [
        (Result.applied(Change(new, Action.CREATE, None, created)), USER_TARGET),
        (Result.applied(Change(gone, Action.DELETE, deleted, None)), USER_TARGET),
        (Result.failed(Change(failed.key, Action.CREATE, None, failed), "boom"), USER_TARGET),
    ]
    after = {e.key.name: e for e in inventory.updated(old, seen, results)}
    assert sorted(after) == ["elsewhere", "kept", "new"]
    assert after["new"].digest == "3" and after["new"].location == USER_TARGET
    assert after["elsewhere"].location == FILE_TARGET
