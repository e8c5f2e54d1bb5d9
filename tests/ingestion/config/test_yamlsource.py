"""Reading untrusted YAML: aliases expand a bounded amount, in bounded memory, and every refusal
is located; ordinary anchors and aliases still read as before."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from ingestion.config import yamlsource
from ingestion.config.diagnostics import ConfigError
from tests.conftest import ROOT, TESTDATA

BOMB = TESTDATA / "config" / "bad" / "alias_bomb.yaml"


def _refusal(text: str | bytes) -> list[str]:
    raw = text.encode() if isinstance(text, str) else text
    with pytest.raises(ConfigError) as caught:
        yamlsource.parse("f.yaml", raw)
    return [d.render() for d in caught.value.diagnostics]


def test_an_alias_bomb_is_refused_at_the_alias_in_bounded_memory() -> None:
    tracemalloc.start()
    try:
        with pytest.raises(ConfigError) as caught:
            yamlsource.parse("bomb.yaml", BOMB.read_bytes())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    [diagnostic] = caught.value.diagnostics
    assert (diagnostic.code, str(diagnostic.location), diagnostic.path) == (
        "alias-expansion",
        "bomb.yaml:6:8",
        "$.e[0]",
    )
    assert peak < 32 << 20  # the bomb expanded is 9^9 strings; refused long before


def test_an_alias_inside_its_own_anchor_is_refused() -> None:
    assert _refusal("a: &a {b: [1, *a]}\n") == [
        "f.yaml:1:15: error[alias-expansion] $.a.b[1]: alias *a refers to a value that contains "
        "it (hint: write the values out: a config needs few aliases (is this an alias bomb?))"
    ]


def test_ordinary_aliases_read_and_are_located_where_written() -> None:
    doc = yamlsource.parse("f.yaml", b"base: &base {retries: 3}\njob:\n  alerts: *base\n")
    assert doc.data == {"base": {"retries": 3}, "job": {"alerts": {"retries": 3}}}
    assert str(doc.locate(("job", "alerts"))) == "f.yaml:3:3"


def test_runaway_nesting_is_refused() -> None:
    [line] = _refusal("a: " + "[" * 5000 + "]" * 5000 + "\n")
    assert line.startswith("f.yaml: error[yaml-too-deep]")


def test_an_oversized_document_is_refused_unparsed() -> None:
    [line] = _refusal(b"a: " + b"x" * (yamlsource.MAX_BYTES + 1))
    assert line.startswith("f.yaml: error[too-large] $: file is larger than 1024 KiB")


def test_keys_are_quoted_only_when_they_are_not_secret_shaped() -> None:
    token = "ghp_" + "a1B2" * 9
    lines = _refusal(f"{token}: 1\n{token}: 2\n1: x\nplain: 1\nplain: 2\n")
    assert lines == [
        "f.yaml:2:1: error[duplicate-key] $: a key (not shown) appears twice "
        "(hint: remove one of them)",
        "f.yaml:3:1: error[non-string-key] $: key 1 is not a string (hint: quote the key)",
        "f.yaml:5:1: error[duplicate-key] $.plain: key 'plain' appears twice "
        "(hint: remove one of them)",
    ]


def _corpus() -> list[Path]:
    """Every YAML file the tests and the project hold: bad inputs, fixtures, the environments."""
    return sorted(
        p
        for base in (TESTDATA, ROOT / "environments", ROOT / "policies")
        for p in base.rglob("*.y*ml")
    )


@pytest.mark.parametrize("path", _corpus(), ids=lambda p: str(p.relative_to(ROOT)))
def test_libyaml_reads_like_the_python_path(path: Path) -> None:
    # The libyaml path gives the same data and positions, or leaves the file to the
    # pure-Python path (aliases, problems), which words every diagnostic.
    text = path.read_text(encoding="utf-8", errors="replace")
    fast = yamlsource._read_c(path.name, text)
    try:
        slow = yamlsource._read_python(path.name, text)
    except Exception:
        assert fast is None
        return
    assert fast is None or fast == slow
    if path.is_relative_to(ROOT / "environments"):
        assert fast is not None


def test_an_alias_is_left_to_the_python_path() -> None:
    assert yamlsource._read_c("x.yaml", "a: &x {b: 1}\nc: *x\n") is None
    assert yamlsource._read_c("x.yaml", "a: {b: 1}\nc: [1, 2]\n") == (
        {"a": {"b": 1}, "c": [1, 2]},
        {
            (): (1, 1),
            ("a",): (1, 1),
            ("a", "b"): (1, 5),
            ("c",): (2, 1),
            ("c", 0): (2, 5),
            ("c", 1): (2, 8),
        },
    )
