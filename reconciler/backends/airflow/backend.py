"""The ``airflow`` backend: one generated DAG file per ``airflow`` job in ``airflow.dags_folder``.

Resources are named ``airflow/<dags_folder as configured>/salam_<env>_<job>.py``. The file's
first line is the ownership marker (environment, job, digest, revision); files without it, or
with another environment's, are never touched (one whose name a job wants is a conflict).

Canonical spec (desired and live alike): ``dag``, the DAG the file defines as read back with
``ast`` (dag id, schedule, time zone, retries, e-mails, command …, for readable drift), and
``source``, every line after the marker keyed ``L0002``, ``L0003`` … so that any hand edit,
even a comment, shows as drift with its line. The spec alone, with the job and meta, recreates
the file exactly (what a rollback re-applies). ``source`` is the text ``dag`` is read from: the
change-set text hides its lines, and says "file text differs" when nothing in ``dag`` does
(:class:`reconciler.output.Derived`). Meta: ``digest`` and ``revision`` (12 hex).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ingestion.config.loader import Environment
from reconciler.backends.airflow import dagfile
from reconciler.backends.base import BackendError, plan_meta, register
from reconciler.backends.folder import FolderBackend, Marker
from reconciler.model import DesiredResource

NAME = "airflow"
_LINE_KEY = "L{:04d}"
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
        return self.desired(dagfile.file_name(env, job), job, spec_of(body), plan_meta(plan))

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
        return spec_of(dagfile.split(text)[1])

    def compose(self, job: str, spec: Mapping[str, Any], meta: Mapping[str, str]) -> str:
        return dagfile.marker_line(self.environment.name, job, meta) + "\n" + body_of(spec)


def spec_of(body: str) -> dict[str, Any]:
    """The canonical spec of a DAG file's body (the text after its marker line)."""
    lines = body.split("\n")
    source = {_LINE_KEY.format(number): line for number, line in enumerate(lines, start=2)}
    return {"dag": dagfile.describe(body), "source": source}


def body_of(spec: Mapping[str, Any]) -> str:
    """The body a spec was made from (its ``source`` lines in line order)."""
    source: Mapping[str, str] = spec.get("source") or {}
    return "\n".join(source[key] for key in sorted(source, key=lambda k: int(k[1:])))
