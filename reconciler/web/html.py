"""The one way pages build HTML: elements whose text and attribute values are always escaped.

A :class:`Markup` is HTML already built here; any other value given to :func:`el` (a job
description, a live object's field, an error message) is escaped, so a config holding
``<script>alert(1)</script>`` renders as that text. Pages never format HTML by hand. No style
or script is ever inline: :func:`page` links ``/static/ui.css`` and ``/static/ui.js``, so the
Content-Security-Policy ``default-src 'self'`` holds. :func:`action` is a button the script
turns into a ``POST`` (the web UI's actions). :func:`rich_text` turns the CLI's rendered
text (the change set) into HTML with one class per colour, so the UI shows the CLI's renderer.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from typing import Any


class Markup(str):
    """HTML built by this module: inserted as is."""


Child = Any  # Markup, str (escaped), numbers (escaped), None (nothing), or an iterable of these


def escape(value: Any) -> Markup:
    return value if isinstance(value, Markup) else Markup(html.escape(str(value), quote=True))


def join(children: Iterable[Child]) -> Markup:
    return Markup("".join(_child(child) for child in children))


def _child(child: Child) -> str:
    if child is None:
        return ""
    if isinstance(child, str | int | float):
        return escape(child)
    return join(child)


def el(tag: str, *children: Child, **attrs: Any) -> Markup:
    """``<tag attrs>children</tag>``; ``class_`` is ``class``, ``data_x`` is ``data-x``; an
    attribute whose value is None or False is left out, True is a bare attribute."""
    rendered = "".join(_attribute(name, value) for name, value in attrs.items())
    return Markup(f"<{tag}{rendered}>{join(children)}</{tag}>")


def void(tag: str, **attrs: Any) -> Markup:
    return Markup(f"<{tag}{''.join(_attribute(n, v) for n, v in attrs.items())}>")


def _attribute(name: str, value: Any) -> str:
    if value is None or value is False:
        return ""
    name = name.rstrip("_").replace("_", "-")
    return f" {name}" if value is True else f' {name}="{escape(value)}"'


def link(href: str, *children: Child) -> Markup:
    return el("a", *children, href=href)


def table(headers: Iterable[Child], rows: Iterable[Iterable[Child]], **attrs: Any) -> Markup:
    head = el("thead", el("tr", (el("th", h) for h in headers)))
    body = el("tbody", (el("tr", (_cell(c) for c in row)) for row in rows))
    return el("table", head, body, **attrs)


def _cell(cell: Child) -> Markup:
    return cell if isinstance(cell, Markup) and cell.startswith("<td") else el("td", cell)


def cell(*children: Child, sort: Any = None, **attrs: Any) -> Markup:
    """A table cell with the value the page's script sorts by (``data-sort``)."""
    return el("td", *children, data_sort=sort, **attrs)


def definitions(items: Mapping[str, Child]) -> Markup:
    return el("dl", ((el("dt", k), el("dd", v)) for k, v in items.items()))


def code_block(text: str, **attrs: Any) -> Markup:
    return el("pre", el("code", text), **attrs)


def command(text: str) -> Markup:
    """A CLI command that reproduces a view (shown, never run by the page)."""
    return el("pre", el("code", text), class_="command")


def action(label: str, path: str, wait_for: str | None = None, ask: str | None = None) -> Markup:
    """A button ``/static/ui.js`` sends as ``POST path`` (with the bearer token and the page's
    CSRF token), its outcome shown in the ``output`` beside it; ``wait_for``: a status URL whose
    next pass the script waits for before reloading (a queued sync); ``ask``: the question whose
    answer goes with it as ``{"note": …}`` (dismissing it cancels)."""
    button = el(
        "button",
        label,
        type="button",
        class_="action",
        data_action=path,
        data_wait=wait_for,
        data_note=ask,
    )
    return el("div", button, " ", el("output", class_="action-status"), class_="actions")


RICH_CLASSES = {"green": "add", "yellow": "mod", "red": "del", "dim": "dim", "bold": "strong"}


def rich_text(text: Any) -> Markup:
    """A ``rich.text.Text`` (its plain string and styled spans) as escaped HTML with classes."""
    plain: str = text.plain
    marks: list[tuple[int, int, str]] = [
        (span.start, span.end, RICH_CLASSES.get(str(span.style), "")) for span in text.spans
    ]
    pieces, at = [], 0
    for start, end, name in sorted(marks):
        if start < at:
            continue  # nested spans: the outer one wins
        pieces += [escape(plain[at:start]), el("span", plain[start:end], class_=name or None)]
        at = end
    pieces.append(escape(plain[at:]))
    return el("pre", join(pieces), class_="changes")


def page(title: str, crumbs: Iterable[Child], *body: Child, csrf: str | None = None) -> str:
    """A whole document: no inline script or style (the CSP forbids both); with ``csrf`` (the
    web UI's actions are on), the token the page's actions send back."""
    head = el(
        "head",
        void("meta", charset="utf-8"),
        void("meta", name="salam-csrf", content=csrf) if csrf else None,
        void("meta", name="viewport", content="width=device-width, initial-scale=1"),
        el("title", f"{title} · Salam"),
        void("link", rel="stylesheet", href="/static/ui.css"),
        void("link", rel="icon", href="/static/favicon.svg", type="image/svg+xml"),
        el("script", src="/static/ui.js", defer=True),
    )
    nav = el("nav", link("/", "Salam"), ((" / ", c) for c in crumbs))
    return "<!DOCTYPE html>\n" + el("html", head, el("body", nav, el("main", *body)), lang="en")
