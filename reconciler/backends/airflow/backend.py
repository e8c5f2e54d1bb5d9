"""The ``airflow`` backend: one generated DAG file per ``airflow`` job in ``airflow.dags_folder``.

Resources are named ``airflow/<dags_folder as configured>/salam_<env>_<job>.py``. The file's
first line is the ownership marker (environment, job, digest, revision); files without it, or
with another environment's, are never touched (one whose name a job wants is a conflict).

A job's ``external.dag_file`` names another file (one written by hand, to adopt in place: same
file, same DAG id, so Airflow keeps the DAG's runs and pause state); an adopt that would change
the DAG id is refused, since Airflow would take it for a new DAG. ``reconcile import --from
airflow`` reads the unmarked files (:mod:`~reconciler.backends.airflow.imported`).

Canonical spec (desired and live alike): ``dag``, the DAG the file defines as read back with
``ast`` (dag id, schedule, time zone, retries, e-mails, command …, for readable drift), and
``source``, every line after the marker keyed ``L0002``, ``L0003`` … (an unmarked file: every
line, from ``L0001``) so that any hand edit, even a comment, shows as drift with its line. The
spec alone, with the job and meta, recreates the file exactly (what a rollback re-applies).
``source`` is the text ``dag`` is read from: the change-set text hides its lines, and says "file
text differs" when nothing in ``dag`` does (:class:`reconciler.output.Derived`). Meta:
``digest`` and ``revision`` (12 hex).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ingestion.config.loader import Environment
from reconciler.backends.airflow import dagfile, imported
from reconciler.backends.base import BackendError, Unmanaged, plan_meta, register
from reconciler.backends.folder import FolderBackend, Marker, source_lines, source_text
from reconciler.model import Change, DesiredResource

NAME = "airflow"
_TOKEN = re.compile(r"^[A-Za-z0-9_.-]+$")


@register(NAME)
class AirflowBackend(FolderBackend):
    """The DAGs folder of one environment, as configured under ``airflow`` in environment.yaml."""

    name = NAME
    suffix = ".py"
    setting = "airflow.dags_folder"

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        self._workdir: str | None = None

    def render(self, plan: Mapping[str, Any]) -> DesiredResource:
        job = str(plan["job"])
        env = self.environment.name
        if not _TOKEN.match(job):
            raise BackendError(f"airflow: job name '{job}' cannot go in a DAG file's marker")
        body = dagfile.body(plan, env, self.workdir)
        return self.desired(dagfile.file_name(plan, env), job, spec_of(body), plan_meta(plan))

    @property
    def workdir(self) -> str:
        """The environment's ``workdir``, absolute (relative to the environment's root)."""
        if self._workdir is None:
            path = Path(str(self.environment.settings.get("workdir", ".")))
            if not path.is_absolute():
                path = Path(self.environment.root).resolve() / path
            self._workdir = os.path.normpath(path)
        return self._workdir

    def marker(self, text: str) -> Marker | None:
        return dagfile.parse_marker(text)

    def spec(self, text: str) -> dict[str, Any]:
        if dagfile.parse_marker(text) is None:
            return spec_of(text, first=1)
        return spec_of(dagfile.split(text)[1])

    def compose(self, job: str, spec: Mapping[str, Any], meta: Mapping[str, str]) -> str:
        return dagfile.marker_line(self.environment.name, job, meta) + "\n" + source_text(spec)

    def check_adopt(self, change: Change) -> None:
        assert change.before is not None and change.after is not None
        before = change.before.spec["dag"].get("dag_id")
        after = change.after.spec["dag"].get("dag_id")
        if before != after:
            raise BackendError(
                f"{change.key} defines DAG {before!r}: taking it over as {after!r} would make "
                "Airflow see a new DAG (paused at creation by default, the old one's runs left "
                f"behind); nothing was written; hint: set external.dag_id: {before} in job "
                f"'{change.after.job}'"
            )

    def unmanaged(self) -> list[Unmanaged]:
        """Every file of the DAGs folder without a Salam marker (``reconcile import``)."""
        self.folder.check()
        found = []
        for file_name in self.folder.names(self.suffix):
            text = self.folder.read(file_name)
            if text is not None and dagfile.parse_marker(text) is None:
                found.append(imported.unmanaged(self.key(file_name), text))
        return found


def spec_of(body: str, first: int = 2) -> dict[str, Any]:
    """The canonical spec of a DAG file's body (the text after its marker line; an unmarked
    file's whole text, its lines numbered from ``first=1``)."""
    return {"dag": dagfile.describe(body), "source": source_lines(body, first)}
