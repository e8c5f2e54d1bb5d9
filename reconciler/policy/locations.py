"""Where policy findings point: a file, and the line and column of a key path in it.

:func:`reconciler.policy.evaluation.check` turns each finding into a
:class:`~ingestion.config.diagnostics.Location` through :class:`Sources`: its :class:`Anchor`
says which file its ``path`` is in, a :class:`Source` locates the path there: a job's merged config
(:meth:`JobConfig.locate`: the job file, or environment.yaml's ``defaults`` for an inherited
value), environment.yaml itself (:func:`environment_file`, for environment-wide findings) or the
policy data (:func:`policy_data`, for exceptions written as waivers in
``policies/data/<env>.yaml`` or ``default.yaml``). Locating never fails: a file that cannot be
re-read, or a path it does not hold, points at the nearest ancestor or at the file itself.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from ingestion.config import yamlsource
from ingestion.config.diagnostics import ConfigError, Location
from ingestion.config.loader import ENVIRONMENTS_DIR, Environment, JobConfig
from ingestion.config.merge import has_path
from ingestion.config.yamlsource import PathKey, SourceDoc
from reconciler.policy.files import POLICY_DIR, data_file, display_name

Locate = Callable[[PathKey], Location]


class Anchor(enum.Enum):
    """Which file a finding's ``path`` is a path in."""

    INPUT = "input"  # the file the input comes from: the job config, or environment.yaml
    DATA = "data"  # the policy data (data.params): waivers in policies/data/<env>.yaml
    POLICY = "policy"  # no path: the policy file of the package that produced the finding


@dataclass(frozen=True)
class Source:
    """One file findings point into: its name in messages and a locator of its key paths."""

    file: str
    locate: Locate

    def at(self, path: PathKey | None) -> Location:
        """The key's line and column; the file alone when the finding names no key."""
        return Location(self.file) if path is None else self.locate(path)


@dataclass(frozen=True)
class Sources:
    """The files an input's findings can point into."""

    input: Source
    data: Source
    packages: Mapping[str, Sequence[str]]  # Rego package → the policy files declaring it

    def with_input(self, source: Source) -> Sources:
        return replace(self, input=source)

    def locate(self, anchor: Anchor, path: PathKey | None, package: str) -> Location:
        if anchor is Anchor.POLICY:
            return Location((self.packages.get(package) or [POLICY_DIR])[0])
        return (self.data if anchor is Anchor.DATA else self.input).at(path)


def job_config(job: JobConfig) -> Source:
    return Source(job.path, job.locate)


def environment_file(environment: Environment) -> Source:
    """environment.yaml of ``environment``, read again for the positions of its keys."""
    display = f"{ENVIRONMENTS_DIR}/{environment.name}/environment.yaml"
    doc = _read(environment.root / display, display)
    return Source(display, doc.locate if doc else lambda _: Location(display))


def policy_data(directory: Path, env: str) -> Source:
    """``data/<env>.*`` merged over ``data/default.*``: a path is where its value comes from
    (lists and scalars replace, so the environment's file wins when it holds the path)."""
    docs = [
        doc
        for name in (env, "default")
        if (path := data_file(directory, name))
        and (doc := _read(path, display_name(path, directory)))
    ]

    def locate(path: PathKey) -> Location:
        for doc in docs:
            if has_path(doc.data, path):
                return doc.locate(path)
        return docs[0].locate(path) if docs else Location(f"{POLICY_DIR}/data")

    return Source(docs[0].file if docs else f"{POLICY_DIR}/data", locate)


def _read(path: Path, display: str) -> SourceDoc | None:
    try:
        return yamlsource.read(path, display)
    except ConfigError:
        return None
