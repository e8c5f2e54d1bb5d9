"""The ``export`` backend: one plan JSON per ``informatica`` / ``external_scheduler`` job.

Each file is ``<export.folder>/<schedule_id>.json``, named ``export/<folder as configured>/
<schedule_id>.json``: the job's orchestration plan without its git fields, plus a ``salam``
marker object ``{"managed_by": "salam", "env", "job", "digest", "revision"}`` that makes it
Salam's, as canonical JSON (sorted keys, 2-space indent). Files without the marker (or not JSON
at all), or marked for another environment, are never touched.

Canonical spec: ``plan``, the document without the marker and without null entries: the
fields the change set shows, a hand edit on its own path. Nulls stay out because the differ
reads a ``None`` in a desired spec as "not managed" and keeps the live value; left out, a
plan's ``null`` (no webhook, say) is still enforced, and a hand-set value shows as
``plan.alerts.webhook: "…" -> (none)``. And ``source``, the canonical JSON of the document
line by line (``L0001`` …): the text a file is written from, so that a rollback re-creates the
exact file from a live spec. It tells a reviewer nothing ``plan`` does not, so the change-set
text hides it (:class:`reconciler.output.Derived`). Meta: ``digest`` and ``revision`` (12
hex), kept in the marker only, so a commit that does not change the plan does not rewrite the
file.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ingestion.plan import canonical
from reconciler.backends.base import plan_meta, register
from reconciler.backends.folder import FolderBackend, Marker, source_lines, source_text
from reconciler.model import DesiredResource

NAME = "export"
MARKER_KEY = "salam"
MANAGED_BY = "salam"


@register(NAME)
class ExportBackend(FolderBackend):
    """The hand-off folder of one environment, as configured under ``export`` in
    environment.yaml."""

    name = NAME
    suffix = ".json"
    setting = "export.folder"

    def render(self, plan: Mapping[str, Any]) -> DesiredResource:
        file_name = f"{plan['schedule_id']}{self.suffix}"
        spec = spec_of(canonical.without_git(plan))
        return self.desired(file_name, str(plan["job"]), spec, plan_meta(plan))

    def marker(self, text: str) -> Marker | None:
        document = _document(text)
        found = document.get(MARKER_KEY) if document is not None else None
        if not isinstance(found, dict) or found.get("managed_by") != MANAGED_BY:
            return None
        fields = [found.get(name) for name in ("env", "job", "digest", "revision")]
        if not all(isinstance(value, str) and value for value in fields):
            return None
        return Marker(*[str(value) for value in fields])

    def spec(self, text: str) -> dict[str, Any]:
        document = _document(text)
        if document is None:
            return {"plan": {"error": "not a JSON object"}, "source": source_lines(text)}
        document.pop(MARKER_KEY, None)
        return spec_of(document)

    def compose(self, job: str, spec: Mapping[str, Any], meta: Mapping[str, str]) -> str:
        marker = {
            "managed_by": MANAGED_BY,
            "env": self.environment.name,
            "job": job,
            "digest": meta.get("digest") or "-",
            "revision": meta.get("revision") or "-",
        }
        document = json.loads(source_text(spec))
        return canonical.dumps({**document, MARKER_KEY: marker})


def spec_of(document: Mapping[str, Any]) -> dict[str, Any]:
    return {"plan": _without_nulls(document), "source": source_lines(canonical.dumps(document))}


def _without_nulls(value: Any) -> Any:
    """``value`` without the entries of its mappings (at any depth) that are null."""
    if isinstance(value, Mapping):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(item) for item in value]
    return value


def _document(text: str) -> dict[str, Any] | None:
    try:
        document = json.loads(text)
    except ValueError:
        return None
    return document if isinstance(document, dict) else None
