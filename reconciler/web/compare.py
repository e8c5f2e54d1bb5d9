"""The compare page ``/compare?from=uat&to=prod``: how two environments' plans differ job by
job, what promoting one to the other would change — the comparison of ``reconcile compare``
(:mod:`reconciler.promotion.compare`, the same rule), rendered as a table: each job's status,
its mode on both sides and the fields that differ (``from → to``). A form picks the two
environments of the project; with ``&format=json`` the page's data is the CLI's JSON document.
An environment that does not load is shown as the error, not raised.
"""

from __future__ import annotations

from collections.abc import Sequence

from reconciler import output
from reconciler.model import FieldChange
from reconciler.promotion import compare as comparison
from reconciler.web import parts
from reconciler.web.html import Markup, cell, command, el, link, page, table

HEADERS = ("Job", "Status", "Mode (from → to)", "Fields that differ (from → to)")


def render(
    known: Sequence[str], source: str, target: str, jobs: Sequence[comparison.JobComparison]
) -> str:
    counts = comparison.counts(jobs)
    summary = (
        f"{len(jobs)} job(s): {counts['differs']} differ, {counts['same']} the same, "
        f"{counts['only-from']} only in {source}, {counts['only-to']} only in {target}."
    )
    rows = [_row(job) for job in jobs]
    return _page(
        known,
        source,
        target,
        el("p", summary, class_="summary"),
        table(HEADERS, rows, id="compare", class_="sortable"),
        el("h2", "Not compared"),
        el("ul", (el("li", rule) for rule in comparison.RULES), class_="dim"),
        el("p", "JSON: ", link(_href(source, target) + "&format=json", "this comparison")),
    )


def failed(known: Sequence[str], source: str, target: str, error: str) -> str:
    return _page(known, source, target, el("p", error, class_="reason"))


def chooser(known: Sequence[str]) -> str:
    """The page without both environments chosen: the form only."""
    return _page(known, "", "")


def link_to(known: Sequence[str]) -> Markup | None:
    """The overview's link: the first two environments of the project, when there are two."""
    if len(known) < 2:
        return None
    return link(_href(known[0], known[1]), f"compare {known[0]} → {known[1]}")


def _href(source: str, target: str) -> str:
    return f"/compare?from={source}&to={target}"


def _page(known: Sequence[str], source: str, target: str, *body: Markup) -> str:
    title = f"Compare {source} → {target}" if source and target else "Compare environments"
    shown = (el("h1", title), _form(known, source, target), *body)
    tail = command(f"reconcile compare --from {source} --to {target}") if body else None
    return page(title, (link("/compare", "compare"),), *shown, tail)


def _form(known: Sequence[str], source: str, target: str) -> Markup:
    return el(
        "form",
        _select("from", known, source),
        " → ",
        _select("to", known, target),
        " ",
        el("button", "Compare", type="submit"),
        action="/compare",
        method="get",
        class_="compare",
    )


def _select(name: str, known: Sequence[str], chosen: str) -> Markup:
    options = (el("option", env, value=env, selected=env == chosen) for env in known)
    return el("select", options, name=name, aria_label=name)


def _row(job: comparison.JobComparison) -> list[Markup]:
    modes = " → ".join(mode or "-" for mode in job.modes)
    return [
        cell(job.job, sort=job.job),
        cell(parts.state(job.status), sort=job.status),
        cell(modes),
        cell(el("ul", (el("li", _field(f)) for f in job.fields)) if job.fields else ""),
    ]


def _field(change: FieldChange) -> Markup:
    return el(
        "code",
        f"{change.path}: {output.value(change.before)} → {output.value(change.after)}",
    )
