"""The element builder escapes every value it did not build; the CLI's rendered text keeps its
colours as classes and stays escaped."""

from __future__ import annotations

from rich.text import Text

from reconciler.web import html
from reconciler.web.html import Markup, el

XSS = "<script>alert(1)</script>"


def test_text_and_attributes_are_escaped_markup_is_not() -> None:
    built = el("p", XSS, el("b", "ok"), title='"><img src=x onerror=alert(1)>', data_sort=3)
    assert XSS not in built and "&lt;script&gt;alert(1)&lt;/script&gt;" in built
    assert "<b>ok</b>" in built
    assert 'title="&quot;&gt;&lt;img' in built and 'data-sort="3"' in built


def test_attributes_none_false_and_true() -> None:
    assert html.void("input", hidden=True, disabled=False, id=None) == Markup("<input hidden>")
    assert el("td", class_="x") == '<td class="x"></td>'


def test_rich_text_keeps_colours_as_classes_and_escapes() -> None:
    text = Text()
    text.append(f"  + {XSS}\n", style="green")
    text.append("rest & more")
    rendered = html.rich_text(text)
    assert '<span class="add">  + &lt;script&gt;' in rendered
    assert "rest &amp; more" in rendered and XSS not in rendered


def test_a_page_links_its_script_and_style_and_inlines_neither() -> None:
    document = html.page("t", (), el("p", "x"))
    assert '<script src="/static/ui.js" defer></script>' in document
    assert "<style" not in document and "style=" not in document
    assert document.count("<script") == 1
