"""Every relative link in README.md and docs/**/*.md points at a file (and heading) that exists."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest

from tests.conftest import ROOT

LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"`[^`\n]*`")
EXPLICIT_ANCHOR = re.compile(r"<a id=\"([^\"]+)\"></a>")
EXTERNAL = ("http://", "https://", "mailto:")
PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])


def _links(text: str) -> list[str]:
    prose = CODE_SPAN.sub("", FENCE.sub("", text))
    return [target for target in LINK.findall(prose) if not target.startswith(EXTERNAL)]


def _slug(heading: str) -> str:
    """GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"<[^>]+>", "", heading).strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


@cache
def _anchors(path: Path) -> frozenset[str]:
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    headings = re.findall(r"^#{1,6}\s+(.+?)\s*$", text, re.MULTILINE)
    return frozenset([*map(_slug, headings), *EXPLICIT_ANCHOR.findall(text)])


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_relative_links_resolve(page: Path) -> None:
    problems = []
    for target in _links(page.read_text(encoding="utf-8")):
        where, _, fragment = target.partition("#")
        path = (page.parent / where).resolve() if where else page
        if not path.exists():
            problems.append(f"{target}: no such file")
        elif fragment and path.suffix == ".md" and fragment not in _anchors(path):
            problems.append(f"{target}: no heading or anchor '#{fragment}'")
    assert not problems, f"{page.relative_to(ROOT)}: " + "; ".join(problems)


def test_the_link_checker_finds_links() -> None:
    text = "See [a](docs/x.md#y), ![img](i.png), [web](https://e.org) and `[no](code.md)`."
    assert _links(text) == ["docs/x.md#y"]
    assert _slug("`reconcile docs`: the Reference!") == "reconcile-docs-the-reference"
