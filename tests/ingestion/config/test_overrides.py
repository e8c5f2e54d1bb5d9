"""``--set KEY=VALUE`` overrides of ``environment.yaml``: values are YAML scalars, ``null``
removes the key, and the file's own settings are never changed."""

from __future__ import annotations

import copy

import pytest

from ingestion.config import loader
from ingestion.config.diagnostics import ConfigError
from tests.conftest import ROOT


def test_null_removes_a_setting_and_the_rest_stays() -> None:
    environment = loader.load_environment(
        ROOT, "prod", ["temporal.tls=null", "temporal.address=127.0.0.1:7233"]
    )
    temporal = environment.settings["temporal"]
    assert "tls" not in temporal
    assert temporal["address"] == "127.0.0.1:7233"
    assert temporal["namespace"] == "ingestion-prod"
    assert "tls" in loader.load_environment(ROOT, "prod").settings["temporal"]


@pytest.mark.parametrize("null", ["null", "~", "Null"])
def test_null_spellings_remove_without_touching_the_input(null: str) -> None:
    data = {"temporal": {"tls": {"client_cert": "file:/c"}, "address": "a:1"}, "workdir": "."}
    before = copy.deepcopy(data)
    assert loader.apply_overrides(data, [f"temporal.tls={null}"]) == {
        "temporal": {"address": "a:1"},
        "workdir": ".",
    }
    assert data == before


def test_removing_what_is_not_there_changes_nothing() -> None:
    data = {"temporal": {"address": "a:1"}, "workdir": "."}
    overrides = ["temporal.tls=null", "kubernetes.context=null", "workdir.below=null"]
    assert loader.apply_overrides(data, overrides) == data


def test_values_are_yaml_scalars_and_later_overrides_win() -> None:
    data = {"temporal": {"address": "a:1"}}
    result = loader.apply_overrides(
        data, ["temporal.tls=null", "temporal.port=7233", "temporal.address=b:2", "x.y="]
    )
    assert result == {"temporal": {"address": "b:2", "port": 7233}, "x": {"y": ""}}
    assert loader.apply_overrides(data, ["temporal=null", "temporal.address=c:3"]) == {
        "temporal": {"address": "c:3"}
    }


def test_an_override_without_a_key_is_a_diagnostic() -> None:
    with pytest.raises(ConfigError) as error:
        loader.apply_overrides({}, ["=null"])
    assert error.value.diagnostics[0].code == "bad-override"
