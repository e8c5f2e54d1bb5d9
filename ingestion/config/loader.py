"""Load an environment directory (or one job config) into validated, merged job configs.

``environments/<env>/environment.yaml`` plus ``environments/<env>/jobs/*.yaml`` (``.yml`` and
``.json`` too). Every file is parsed with positions, checked against its schema, for literal
secrets and by the cross-field checks; all problems are collected and raised together as one
:class:`ConfigError`. Overrides (``--set temporal.address=…``) apply to ``environment.yaml``
before validation, so they are checked like the file itself.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ingestion.config import checks, merge, schema, secrets, yamlsource
from ingestion.config.diagnostics import ConfigError, Diagnostic, Location, Severity, errors
from ingestion.config.modes import Mode
from ingestion.config.yamlsource import PathKey, SourceDoc

ENVIRONMENTS_DIR = "environments"
JOB_SUFFIXES = (".yaml", ".yml", ".json")


@dataclass(frozen=True)
class JobConfig:
    """One job config after defaults are merged: what plans and the Spark job are built from."""

    environment: str
    name: str
    path: str
    sha256: str
    data: Mapping[str, Any] = field(compare=False)
    locator: Callable[[PathKey], Location] | None = field(default=None, compare=False, repr=False)

    def locate(self, path: PathKey) -> Location:
        """Where ``path`` of the merged config is written: the job file's line and column, or
        environment.yaml's ``defaults`` for a value the job inherits."""
        return self.locator(path) if self.locator is not None else Location(self.path)

    @property
    def mode(self) -> Mode:
        return Mode.of(self.data["runtime"]["orchestration"]["mode"])

    @property
    def block(self) -> Mapping[str, Any]:
        """The mode's own block (``cron``, ``external``, ``temporal`` or ``kubernetes``)."""
        orchestration = self.data["runtime"]["orchestration"]
        block: Mapping[str, Any] = orchestration[self.mode.block]
        return block


@dataclass(frozen=True)
class Environment:
    """An environment directory: its shared settings and its jobs, sorted by name."""

    name: str
    root: Path
    settings: Mapping[str, Any] = field(compare=False)
    jobs: tuple[JobConfig, ...]
    warnings: tuple[Diagnostic, ...] = ()

    def job(self, name: str) -> JobConfig:
        for job in self.jobs:
            if job.name == name:
                return job
        known = ", ".join(j.name for j in self.jobs) or "none"
        raise KeyError(f"no job '{name}' in environment '{self.name}' (jobs: {known})")


def known_environments(root: Path) -> list[str]:
    base = root / ENVIRONMENTS_DIR
    if not base.is_dir():
        return []
    return sorted(p.name for p in base.iterdir() if (p / "environment.yaml").is_file())


def find_root(start: Path) -> Path:
    """The nearest directory at or above ``start`` that holds ``environments/``."""
    start = start.resolve()
    for candidate in (start, *start.parents):
        if (candidate / ENVIRONMENTS_DIR).is_dir():
            return candidate
    return start


def load_environment(root: Path, name: str, overrides: Sequence[str] = ()) -> Environment:
    """Load and validate ``environments/<name>``; raise :class:`ConfigError` with every problem."""
    directory = root / ENVIRONMENTS_DIR / name
    if not (directory / "environment.yaml").is_file():
        raise ConfigError([_unknown_environment(root, name)])
    settings_doc = _environment_doc(root, directory, overrides)
    found = _check_environment_doc(settings_doc, name)
    settings = settings_doc.data if isinstance(settings_doc.data, dict) else {}
    jobs: list[JobConfig] = []
    files = _job_files(directory / "jobs")
    if not files:
        where = Location(_display(root, directory / "jobs"))
        found.append(
            Diagnostic(
                "no-jobs",
                "no job configs in this environment",
                where,
                hint="add jobs/<job>.yaml",
                severity=Severity.WARNING,
            )
        )
    for path in files:
        job, problems = _load_job_file(root, path, name, settings_doc)
        found.extend(problems)
        if job:
            jobs.append(job)
    found.extend(_unique(jobs, lambda j: j.name, "duplicate-job", "job name"))
    found.extend(_unique(jobs, schedule_id, "duplicate-schedule-id", "schedule id"))
    if errors(found):
        raise ConfigError(found)
    jobs.sort(key=lambda j: j.name)
    return Environment(name, root, settings, tuple(jobs), tuple(found))


def load_job(config: Path, overrides: Sequence[str] = ()) -> tuple[Environment, JobConfig]:
    """Load one job config file within its environment (for ``--config``)."""
    path = config.resolve()
    if path.parent.name != "jobs" or path.parent.parent.parent.name != ENVIRONMENTS_DIR:
        where = Location(str(config))
        hint = "job configs live in environments/<env>/jobs/<job>.yaml"
        raise ConfigError(
            [Diagnostic("not-a-job-config", "not inside an environment", where, hint=hint)]
        )
    if not path.is_file():
        raise ConfigError([Diagnostic("unreadable", "no such file", Location(str(config)))])
    root = path.parent.parent.parent.parent
    environment = load_environment(root, path.parent.parent.name, overrides)
    for job in environment.jobs:
        if job.path == _display(root, path):
            return environment, job
    raise AssertionError("a loaded environment lost one of its files")


def schedule_id(job: JobConfig) -> str:
    """The name the job's schedule has in its scheduler, unique per environment."""
    block = job.block
    if job.mode is Mode.TEMPORAL and block.get("workflow_id"):
        return str(block["workflow_id"])
    if job.mode is Mode.AIRFLOW and block.get("dag_id"):
        return str(block["dag_id"])
    return f"salam-{job.environment}-{job.name}"


def _environment_doc(root: Path, directory: Path, overrides: Sequence[str]) -> SourceDoc:
    doc = yamlsource.read(
        directory / "environment.yaml", _display(root, directory / "environment.yaml")
    )
    if not overrides:
        return doc
    data = apply_overrides(doc.data if isinstance(doc.data, dict) else {}, overrides)
    return SourceDoc(doc.file, data, doc.raw, doc.positions)


def apply_overrides(data: Mapping[str, Any], overrides: Sequence[str]) -> dict[str, Any]:
    """Apply ``a.b.c=value`` overrides (values parsed as YAML scalars) to a copy of ``data``."""
    result = merge.deep_merge({}, data)
    for override in overrides:
        key, sep, text = override.partition("=")
        if not sep or not key.strip():
            raise ConfigError(
                [
                    Diagnostic(
                        "bad-override",
                        f"override '{override}' is not KEY=VALUE",
                        Location("--set"),
                        hint="e.g. --set temporal.address=127.0.0.1:7233",
                    )
                ]
            )
        nested: dict[str, Any] = {}
        cursor = nested
        parts = key.strip().split(".")
        for part in parts[:-1]:
            cursor = cursor.setdefault(part, {})
        cursor[parts[-1]] = yaml.safe_load(text) if text else ""
        result = merge.deep_merge(result, nested)
    return result


def _check_environment_doc(doc: SourceDoc, name: str) -> list[Diagnostic]:
    if not isinstance(doc.data, dict):
        return [
            Diagnostic(
                "not-a-mapping", "environment.yaml must be a mapping of settings", doc.locate(())
            )
        ]
    found = schema.validate(doc, schema.ENVIRONMENT) + secrets.find_literals(doc)
    if not errors(found):
        found += checks.check_environment(doc.data, name, doc.locate)
    return found


def _load_job_file(
    root: Path, path: Path, env: str, env_doc: SourceDoc
) -> tuple[JobConfig | None, list[Diagnostic]]:
    try:
        doc = yamlsource.read(path, _display(root, path))
    except ConfigError as exc:
        return None, list(exc.diagnostics)
    if not isinstance(doc.data, dict):
        kind = (
            "a list" if isinstance(doc.data, list) else "empty" if doc.data is None else "a scalar"
        )
        hint = "write the job as a mapping: name:, source:, runtime: ..."
        return None, [
            Diagnostic(
                "not-a-mapping",
                f"a job config must be a mapping, this is {kind}",
                doc.locate(()),
                hint=hint,
            )
        ]
    env_data = env_doc.data if isinstance(env_doc.data, dict) else {}
    merged = merge.deep_merge(env_data.get("defaults", {}), doc.data)
    merged.setdefault("name", path.stem)
    locate = merge.origin(doc, env_doc)
    found = schema.validate(doc, schema.JOB, merged, locate) + secrets.find_literals(doc)
    if errors(found):
        return None, found
    found += checks.check_job(merged, env_data, locate)
    if errors(found):
        return None, found
    sha = hashlib.sha256(doc.raw).hexdigest()
    return JobConfig(env, merged["name"], doc.file, sha, merged, locate), found


def _job_files(directory: Path) -> list[Path]:
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if p.is_file() and p.suffix in JOB_SUFFIXES)


def _unique(jobs: Iterable[JobConfig], key: Any, code: str, what: str) -> list[Diagnostic]:
    seen: dict[str, JobConfig] = {}
    found = []
    for job in jobs:
        value = key(job)
        if value in seen:
            summary = f"{what} '{value}' is also used by {seen[value].path}"
            found.append(
                Diagnostic(code, summary, Location(job.path), hint=f"give each job its own {what}")
            )
        else:
            seen[value] = job
    return found


def _unknown_environment(root: Path, name: str) -> Diagnostic:
    known = known_environments(root)
    listing = ", ".join(known) if known else "none found"
    where = Location(_display(root, root / ENVIRONMENTS_DIR / name))
    return Diagnostic(
        "unknown-environment",
        f"no environment '{name}'",
        where,
        hint=f"known environments: {listing}",
    )


def _display(root: Path, path: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)
