"""Load an environment directory (or one job config) into validated, merged job configs.

``environments/<env>/environment.yaml`` plus ``environments/<env>/jobs/*.yaml`` (``.yml`` and
``.json`` too), and the checksums of its Spark files in ``spark.lock`` (:mod:`.sparklock`,
optional). Every file is parsed with positions, checked against its schema, for literal
secrets and by the cross-field checks (even where the schema found errors), and job names and
schedule ids must be unique (:mod:`.identity`); all problems are collected and raised together
as one :class:`InvalidEnvironment`, which also carries the jobs that loaded cleanly, so a
caller can render and check those too and report everything at once. Overrides
(``--set temporal.address=…``) apply to ``environment.yaml`` before validation, so they are
checked like the file itself. :func:`load_one_job` (``ingest run``) reads one job file and
``environment.yaml`` only, so a broken neighbour does not stop a run. A file that resolves
outside the project root (a symbolic link out of it) is refused: the source of truth is what
git holds. An environment with a ``canary:`` section also has the generated ``canary`` job
(:mod:`.canary`), loaded and checked like a file's, at the path ``jobs/canary.yaml``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ingestion.config import (
    canary,
    checks,
    identity,
    maintenance,
    merge,
    schema,
    secrets,
    sparklock,
    yamlsource,
)
from ingestion.config.diagnostics import ConfigError, Diagnostic, Location, Severity, errors
from ingestion.config.modes import Mode
from ingestion.config.yamlsource import PathKey, SourceDoc

ENVIRONMENTS_DIR = "environments"
_INGESTION_ONLY = ("source", "load", "target", "spark")  # defaults a command job does not take
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
    spark_lock: sparklock.SparkLock | None = field(default=None, compare=False)

    def job(self, name: str) -> JobConfig:
        for job in self.jobs:
            if job.name == name:
                return job
        known = ", ".join(j.name for j in self.jobs) or "none"
        raise KeyError(f"no job '{name}' in environment '{self.name}' (jobs: {known})")


class InvalidEnvironment(ConfigError):
    """An environment with errors: every diagnostic, and the part of it that is still usable.

    ``valid`` holds the jobs that loaded cleanly (no error of their own, no name or schedule id
    taken by an earlier file) with the environment's settings, for a caller to render and check
    as well; None when ``environment.yaml`` itself has errors."""

    def __init__(self, diagnostics: Sequence[Diagnostic], valid: Environment | None) -> None:
        super().__init__(diagnostics)
        self.valid = valid


@dataclass(frozen=True)
class _JobFile:
    """One job file as loaded: the job (None when the file has errors), its diagnostics and
    the names it goes by."""

    job: JobConfig | None
    problems: list[Diagnostic]
    names: tuple[identity.Name, ...] = ()


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
    """Load and validate ``environments/<name>``; raise :class:`InvalidEnvironment` with every
    problem and the jobs that loaded cleanly (:class:`ConfigError` when environment.yaml
    cannot be read at all)."""
    directory = root / ENVIRONMENTS_DIR / name
    if not (directory / "environment.yaml").is_file():
        raise ConfigError([_unknown_environment(root, name)])
    settings_doc = _environment_doc(root, directory, overrides)
    found = _check_environment_doc(settings_doc, name)
    usable = not errors(found)
    lock = _spark_lock(root, directory, found)
    settings = settings_doc.data if isinstance(settings_doc.data, dict) else {}
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
    folders: dict[Path, Path] = {}  # resolved once for this load
    loaded = [_load_job_file(root, path, name, settings_doc, folders) for path in files]
    loaded += _load_generated(root, name, settings_doc) if usable else []
    clashes, clashing = identity.clashes([file.names for file in loaded])
    found += [problem for file in loaded for problem in file.problems] + clashes
    jobs = [f.job for i, f in enumerate(loaded) if f.job is not None and i not in clashing]
    jobs.sort(key=lambda j: j.name)
    warnings = tuple(d for d in found if d.severity is not Severity.ERROR)
    environment = Environment(name, root, settings, tuple(jobs), warnings, lock)
    if errors(found):
        raise InvalidEnvironment(found, environment if usable else None)
    return environment


def load_job(config: Path, overrides: Sequence[str] = ()) -> tuple[Environment, JobConfig]:
    """Load one job config file within its environment (for ``--config``)."""
    path = config.resolve()
    if path.parent.name != "jobs" or path.parent.parent.parent.name != ENVIRONMENTS_DIR:
        where = Location(str(config))
        hint = "job configs live in environments/<env>/jobs/<job>.yaml"
        raise ConfigError(
            [Diagnostic("not-a-job-config", "not inside an environment", where, hint=hint)]
        )
    if not path.is_file() and not _is_canary(path):
        raise ConfigError([Diagnostic("unreadable", "no such file", Location(str(config)))])
    root = path.parent.parent.parent.parent
    environment = load_environment(root, path.parent.parent.name, overrides)
    for job in environment.jobs:
        if job.path == _display(root, path):
            return environment, job
    raise AssertionError("a loaded environment lost one of its files")


def load_one_job(config: Path, overrides: Sequence[str] = ()) -> tuple[Environment, JobConfig]:
    """Load one job config with its ``environment.yaml`` only (for ``ingest run``): the other
    job files of the environment, broken or not, play no part. Raise :class:`ConfigError` with
    every problem of the two files. The environment returned holds this one job."""
    root, path = _job_path(config)
    name = path.parent.parent.name
    settings_doc = _environment_doc(root, path.parent.parent, overrides)
    found = _check_environment_doc(settings_doc, name)
    lock = _spark_lock(root, path.parent.parent, found)
    file = _load_canary(root, name, settings_doc) if _is_canary(path) else None
    file = file or _load_job_file(root, path, name, settings_doc)
    found += file.problems
    if errors(found) or file.job is None:
        raise ConfigError(found)
    settings = settings_doc.data if isinstance(settings_doc.data, dict) else {}
    warnings = tuple(d for d in found if d.severity is not Severity.ERROR)
    return Environment(name, root, settings, (file.job,), warnings, lock), file.job


def _job_path(config: Path) -> tuple[Path, Path]:
    """The project root and the job file of ``config`` (as named: a symbolic link is refused
    when loaded, like in an environment), or :class:`ConfigError` when it is no job config."""
    path = config.absolute().parent.resolve() / config.name
    if path.parent.name != "jobs" or path.parent.parent.parent.name != ENVIRONMENTS_DIR:
        hint = "job configs live in environments/<env>/jobs/<job>.yaml"
        where = Location(str(config))
        raise ConfigError(
            [Diagnostic("not-a-job-config", "not inside an environment", where, hint=hint)]
        )
    if not path.is_file() and not _is_canary(path):
        raise ConfigError([Diagnostic("unreadable", "no such file", Location(str(config)))])
    return path.parent.parent.parent.parent, path


def _is_canary(path: Path) -> bool:
    """Whether ``path`` names the generated canary (no file of that name in ``jobs/``)."""
    return path.name == f"{canary.NAME}.yaml" and not path.exists()


def schedule_id(job: JobConfig) -> str:
    """The name the job's schedule has in its scheduler, unique per environment."""
    return identity.schedule_id(job.environment, job.data)[0]


def _environment_doc(root: Path, directory: Path, overrides: Sequence[str]) -> SourceDoc:
    path = directory / "environment.yaml"
    display = _display(root, path)
    _refuse_outside(root, path, display)
    doc = yamlsource.read(path, display)
    if not overrides:
        return doc
    data = apply_overrides(doc.data if isinstance(doc.data, dict) else {}, overrides)
    given: dict[PathKey, Location] = {
        tuple(o.partition("=")[0].strip().split(".")): Location("--set") for o in overrides
    }
    return SourceDoc(doc.file, data, doc.raw, doc.positions, given)


def apply_overrides(data: Mapping[str, Any], overrides: Sequence[str]) -> dict[str, Any]:
    """Apply ``a.b.c=value`` overrides (values parsed as YAML scalars) to a copy of ``data``.

    A YAML null (``temporal.tls=null``, ``~``) removes the key instead, so a setting can be
    turned off for one run; removing a key that is not there changes nothing."""
    result = merge.deep_merge({}, data)
    for override in overrides:
        key, sep, text = override.partition("=")
        if not sep or not key.strip():
            raise _bad_override(override, "is not KEY=VALUE", tuple(override.split(".")))
        parts = key.strip().split(".")
        try:
            value = yaml.safe_load(text) if text else ""
        except yaml.YAMLError:  # its message quotes the text, which may be a secret
            raise _bad_override(key.strip(), "has a value that is not valid YAML") from None
        cursor = result
        if value is None:  # remove: copy each mapping on the way down, never change ``data``
            for part in parts[:-1]:
                below = cursor.get(part)
                if not isinstance(below, Mapping):
                    break
                cursor[part] = dict(below)
                cursor = cursor[part]
            else:
                cursor.pop(parts[-1], None)
            continue
        nested: dict[str, Any] = {}
        cursor = nested
        for part in parts[:-1]:
            cursor = cursor.setdefault(part, {})
        cursor[parts[-1]] = value
        result = merge.deep_merge(result, nested)
    return result


def _bad_override(what: str, problem: str, path: PathKey = ()) -> ConfigError:
    """``--set`` cannot be used: ``what`` is quoted only as :func:`secrets.shown` allows (a key
    path, or an override with no ``=`` that may be a secret under a secret-bearing key)."""
    shown = secrets.shown(what, path)
    summary = f"override {shown + ' ' if shown else ''}{problem}"
    hint = "e.g. --set temporal.address=127.0.0.1:7233 (quote a value YAML would misread)"
    return ConfigError([Diagnostic("bad-override", summary, Location("--set"), hint=hint)])


def _check_environment_doc(doc: SourceDoc, name: str) -> list[Diagnostic]:
    if not isinstance(doc.data, dict):
        return [
            Diagnostic(
                "not-a-mapping", "environment.yaml must be a mapping of settings", doc.locate(())
            )
        ]
    return [
        *schema.validate(doc, schema.ENVIRONMENT),
        *secrets.find_literals(doc),
        *checks.check_environment(doc.data, name, doc.locate),
    ]


def spark_lock(environment: Environment) -> sparklock.SparkLock:
    """The environment's Spark lock as loaded, or an empty one where it would be written."""
    display = f"{ENVIRONMENTS_DIR}/{environment.name}/{sparklock.LOCK_FILE}"
    return environment.spark_lock or sparklock.SparkLock(display)


def _spark_lock(root: Path, directory: Path, found: list[Diagnostic]) -> sparklock.SparkLock:
    """The environment's Spark lock (empty when there is none); its problems join ``found``."""
    path = directory / sparklock.LOCK_FILE
    display = _display(root, path)
    if not path.exists() and not path.is_symlink():
        return sparklock.SparkLock(display)
    try:
        _refuse_outside(root, path, display)
        lock, problems = sparklock.from_doc(yamlsource.read(path, display))
    except ConfigError as exc:
        lock, problems = sparklock.SparkLock(display, broken=True), list(exc.diagnostics)
    found += problems
    return lock


def _load_job_file(
    root: Path, path: Path, env: str, env_doc: SourceDoc, folders: dict[Path, Path] | None = None
) -> _JobFile:
    display = _display(root, path)
    try:
        _refuse_outside(root, path, display, folders)
        doc = yamlsource.read(path, display)
    except ConfigError as exc:
        return _JobFile(None, list(exc.diagnostics))
    return _load_job_doc(doc, env, env_doc, display)


def _load_generated(root: Path, env: str, env_doc: SourceDoc) -> list[_JobFile]:
    """The jobs ``environment.yaml`` generates: the canary, the lake's maintenance."""
    found = [_load_canary(root, env, env_doc), _load_maintenance(root, env, env_doc)]
    return [file for file in found if file is not None]


def _load_maintenance(root: Path, env: str, env_doc: SourceDoc) -> _JobFile | None:
    """The generated maintenance job (:mod:`.maintenance`), or None when it is not set."""
    env_data = env_doc.data if isinstance(env_doc.data, dict) else {}
    section = maintenance.settings_of(env_data)
    if section is None:
        return None
    environment_yaml = root / ENVIRONMENTS_DIR / env / "environment.yaml"
    display = f"{_display(root, environment_yaml)} (maintenance)"
    doc = yamlsource.parse(display, maintenance.text(env, env_data, section))
    path = f"{ENVIRONMENTS_DIR}/{env}/jobs/{maintenance.NAME}.yaml"
    return _load_job_doc(doc, env, env_doc, path, schema.COMMAND_JOB)


def _load_canary(root: Path, env: str, env_doc: SourceDoc) -> _JobFile | None:
    """The generated canary job (:mod:`.canary`), or None when the environment has none."""
    env_data = env_doc.data if isinstance(env_doc.data, dict) else {}
    section = canary.settings_of(env_data)
    if section is None:
        return None
    display = f"{_display(root, root / ENVIRONMENTS_DIR / env / 'environment.yaml')} (canary)"
    doc = yamlsource.parse(display, canary.text(env_data, section))
    return _load_job_doc(doc, env, env_doc, f"{ENVIRONMENTS_DIR}/{env}/jobs/{canary.NAME}.yaml")


def _load_job_doc(
    doc: SourceDoc, env: str, env_doc: SourceDoc, path: str, kind: str = schema.JOB
) -> _JobFile:
    """One job document checked and merged with ``defaults``; ``path`` is its config path,
    ``kind`` the schema it meets."""
    if not isinstance(doc.data, dict):
        kind = (
            "a list" if isinstance(doc.data, list) else "empty" if doc.data is None else "a scalar"
        )
        hint = "write the job as a mapping: name:, source:, runtime: ..."
        summary = f"a job config must be a mapping, this is {kind}"
        return _JobFile(None, [Diagnostic("not-a-mapping", summary, doc.locate(()), hint=hint)])
    env_data = env_doc.data if isinstance(env_doc.data, dict) else {}
    defaults = env_data.get("defaults", {})
    defaults = defaults if isinstance(defaults, dict) else {}
    if kind == schema.COMMAND_JOB:  # it reads no source: the ingestion defaults are not its own
        defaults = {k: v for k, v in defaults.items() if k not in _INGESTION_ONLY}
    merged = merge.deep_merge(defaults, doc.data)
    merged.setdefault("name", Path(path).stem)
    locate = merge.origin(doc, env_doc)
    found = [
        *schema.validate(doc, kind, merged, locate),
        *secrets.find_literals(doc),
        *checks.check_job(merged, env_data, locate),
    ]
    names = identity.of(env, merged, locate)
    if errors(found):
        return _JobFile(None, found, names)
    sha = hashlib.sha256(doc.raw).hexdigest()
    return _JobFile(JobConfig(env, merged["name"], path, sha, merged, locate), found, names)


def _job_files(directory: Path) -> list[Path]:
    """Every job file, symbolic links and special files included (refused when loaded)."""
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if p.suffix in JOB_SUFFIXES and not p.is_dir())


def _refuse_outside(
    root: Path, path: Path, display: str, folders: dict[Path, Path] | None = None
) -> None:
    """Raise :class:`ConfigError` when ``path`` resolves outside the project root: a symbolic
    link out of the repository would make the config something git does not hold.

    A plain file resolves where its folder does: ``folders`` keeps the folders resolved during
    one load (a thousand job files cost a thousand ``lstat``, not six thousand)."""
    folders = {} if folders is None else folders
    try:
        resolved = (
            path.resolve() if path.is_symlink() else _folder(folders, path.parent) / path.name
        )
        resolved.relative_to(_folder(folders, root))
    except ValueError:
        raise ConfigError([outside_project(display)]) from None
    except (OSError, RuntimeError):
        summary, hint = "cannot be resolved (a symbolic link loop?)", "replace it with the file"
        raise ConfigError(
            [Diagnostic("unreadable", summary, Location(display), hint=hint)]
        ) from None


def _folder(folders: dict[Path, Path], folder: Path) -> Path:
    if folder not in folders:
        folders[folder] = folder.resolve()
    return folders[folder]


def outside_project(display: str) -> Diagnostic:
    """The diagnostic of a config file that resolves outside the project."""
    return Diagnostic(
        "outside-project",
        "resolves outside the project (a symbolic link out of it?)",
        Location(display),
        hint="keep the file itself in the repository: the source of truth is what git holds",
    )


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
    """``path`` as diagnostics name it: relative to the project root as written (a symbolic
    link by its own name), else as resolved, else in full."""
    for resolve in (False, True):
        try:
            base, target = (root.resolve(), path.resolve()) if resolve else (root, path)
            return target.absolute().relative_to(base.absolute()).as_posix()
        except (ValueError, OSError, RuntimeError):  # elsewhere, or a symbolic link loop
            continue
    return str(path)
