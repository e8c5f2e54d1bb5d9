"""Managed files in one folder: the machinery the ``airflow`` and ``export`` backends share.

A resource is one file ``<folder>/<name>``, named ``<backend>/<folder as configured>/<name>``.
A file is Salam's for an environment when its ownership marker (parsed by the concrete
backend) names that environment. :meth:`FolderBackend.read` returns every file marked for this
environment (``managed=True``), plus any other file whose name a desired resource wants
(unmarked, unreadable as ours, or marked for another environment) as ``managed=False``: a
conflict the engine reports and never touches — unless the job may adopt it. Files of other
environments are ignored. Every spec carries ``source``: the file's lines keyed ``L0001`` …
(:func:`source_lines`), from which :func:`source_text` gives the text back.

:meth:`FolderBackend.apply` handles each change on its own: it reads the file again, refuses
when it is no longer what the change was computed from (or no longer ours), then writes it
atomically (temporary file in the same folder, fsync, rename, fsync of the folder) or unlinks
it. An adopt rewrites an unmarked file in place as Salam's (same name; refused once it carries
a marker or changed since it was read, and where the subclass says taking it over would change
what it is); a restore giving an adopted file back writes its ``source`` again, unmarked. A
failure stops the batch; later changes are not attempted.
"""

from __future__ import annotations

import abc
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingestion.config.loader import Environment
from reconciler import atomicfile
from reconciler.backends.base import BackendError, Connected
from reconciler.model import Action, Change, DesiredResource, LiveResource, ResourceKey, Result

_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_LINE_KEY = "L{:04d}"


def source_lines(text: str, first: int = 1) -> dict[str, str]:
    """``text``'s lines keyed by line number (``L0001`` …), the first numbered ``first``."""
    return {_LINE_KEY.format(n): line for n, line in enumerate(text.split("\n"), start=first)}


def source_text(spec: Mapping[str, Any]) -> str:
    """The text a spec's ``source`` lines hold, in line order."""
    source: Mapping[str, str] = spec.get("source") or {}
    return "\n".join(source[key] for key in sorted(source, key=lambda k: int(k[1:])))


@dataclass(frozen=True)
class Marker:
    """What makes a file Salam's: environment and job, plus the plan's digest and revision."""

    env: str
    job: str
    digest: str
    revision: str

    @property
    def meta(self) -> dict[str, str]:
        return {"digest": self.digest, "revision": self.revision}


class Folder:
    """One folder of files, relative paths resolved against the environment's root."""

    def __init__(self, environment: Environment, configured: str, setting: str) -> None:
        self.configured = configured
        self.setting = setting
        path = Path(configured)
        if not path.is_absolute():
            path = Path(environment.root).resolve() / path
        self.path = Path(os.path.normpath(path))

    def check(self) -> None:
        if self.path.exists() and not self.path.is_dir():
            raise BackendError(
                f"{self.setting} {self.path} is not a directory; "
                f"hint: point {self.setting} in environment.yaml at a folder"
            )

    def names(self, suffix: str) -> list[str]:
        """The plain files ending in ``suffix`` (hidden and temporary files excluded)."""
        try:
            entries = sorted(os.scandir(self.path), key=lambda e: e.name)
        except FileNotFoundError:
            return []
        except OSError as error:
            raise BackendError(f"cannot list {self.path}: {error.strerror}") from None
        return [
            e.name
            for e in entries
            if e.name.endswith(suffix) and not e.name.startswith(".") and e.is_file()
        ]

    def read(self, name: str) -> str | None:
        """The file's text (undecodable bytes replaced), or None when it does not exist."""
        try:
            return (self.path / name).read_bytes().decode("utf-8", errors="replace")
        except FileNotFoundError:
            return None
        except OSError as error:
            raise BackendError(f"cannot read {self.path / name}: {error.strerror}") from None

    def write(self, name: str, text: str) -> None:
        atomicfile.write(self.path / name, text.encode("utf-8"))

    def delete(self, name: str) -> None:
        (self.path / name).unlink()
        atomicfile.fsync_directory(self.path)


def check_name(backend: str, name: str, suffix: str) -> str:
    """``name`` when it is a plain file name in the folder; a BackendError otherwise."""
    if not (_SAFE_NAME.match(name) and name.endswith(suffix)):
        raise BackendError(
            f"{backend}: '{name}' cannot be a file name in the folder (letters, digits, '.', "
            f"'_' and '-' only, ending in {suffix}); hint: change the job's schedule id or name"
        )
    return name


class FolderBackend(Connected, abc.ABC):
    """The shared read/apply loop; subclasses say how a file is named, marked and parsed."""

    name = ""
    suffix = ""
    setting = ""

    def __init__(self, environment: Environment) -> None:
        self.environment = environment
        self._folder: Folder | None = None
        self._desired: dict[str, str] = {}

    # --- what a subclass provides -------------------------------------------------------

    @abc.abstractmethod
    def marker(self, text: str) -> Marker | None:
        """The ownership marker of a file's text, or None when it carries none."""

    @abc.abstractmethod
    def spec(self, text: str) -> dict[str, Any]:
        """The canonical spec of any file's text (must not fail on hand-edited text)."""

    @abc.abstractmethod
    def compose(self, job: str, spec: Mapping[str, Any], meta: Mapping[str, str]) -> str:
        """The whole file text for a desired resource: from its spec, job and meta alone."""

    def check_adopt(self, change: Change) -> None:
        """Raise :class:`BackendError` when taking the file over as ``change.after`` would make
        it another thing than the one it is (default: never)."""

    # --- the Backend protocol -----------------------------------------------------------

    @property
    def folder(self) -> Folder:
        if self._folder is None:
            section, _, key = self.setting.partition(".")
            configured = (self.environment.settings.get(section) or {}).get(key)
            if not configured:
                raise BackendError(
                    f"environment '{self.environment.name}' has no {self.setting}; "
                    f"hint: set {self.setting} in environment.yaml"
                )
            self._folder = Folder(self.environment, str(configured), self.setting)
        return self._folder

    def open(self) -> None:
        self.folder.check()

    def key(self, file_name: str) -> ResourceKey:
        return ResourceKey(self.name, self.folder.configured, file_name)

    def location(self, key: ResourceKey) -> dict[str, Any]:
        return {self.setting: key.scope}

    def desired(
        self, file_name: str, job: str, spec: Mapping[str, Any], meta: Mapping[str, str]
    ) -> DesiredResource:
        """Record a desired file (so a colliding foreign file is reported) and return it."""
        check_name(self.name, file_name, self.suffix)
        previous = self._desired.get(file_name)
        if previous is not None and previous != job:
            raise BackendError(
                f"{self.name}: jobs '{previous}' and '{job}' both want the file {file_name}; "
                "hint: give one of them another schedule id"
            )
        self._desired[file_name] = job
        return DesiredResource(self.key(file_name), job, dict(spec), dict(meta))

    def read(self) -> list[LiveResource]:
        self.folder.check()
        found = []
        for file_name in self.folder.names(self.suffix):
            resource = self._live(file_name, self.folder.read(file_name))
            if resource is not None:
                found.append(resource)
        return found

    def apply(self, changes: Sequence[Change]) -> list[Result]:
        results: list[Result] = []
        for change in changes:
            if any(not r.ok for r in results):
                results.append(Result.skipped(change, "an earlier change failed"))
            else:
                results.append(self._apply_one(change))
        return results

    # --- internals ----------------------------------------------------------------------

    def _live(self, file_name: str, text: str | None) -> LiveResource | None:
        if text is None:
            return None
        marker = self.marker(text)
        key = self.key(file_name)
        if marker is not None and marker.env == self.environment.name:
            return LiveResource(key, marker.job, self.spec(text), marker.meta, managed=True)
        if file_name in self._desired:
            meta = marker.meta if marker else {}
            job = self._desired[file_name]
            return LiveResource(key, job, self.spec(text), meta, managed=False)
        return None

    def _apply_one(self, change: Change) -> Result:
        if change.action is Action.NOOP:
            return Result.applied(change)
        file_name = change.key.name
        try:
            check_name(self.name, file_name, self.suffix)
            if change.key.scope != self.folder.configured:
                raise BackendError(
                    f"{self.name}: {change.key} is not in this environment's folder "
                    f"{self.folder.configured}"
                )
            if change.action is Action.ADOPT:
                self._check_adoptable(change)
            else:
                self._check_unchanged(change)
            after = change.after
            if change.action is Action.DELETE or after is None:
                self.folder.delete(file_name)
            elif after.owned:
                self.folder.write(file_name, self.compose(after.job, after.spec, after.meta))
            else:  # a restore giving back a file an apply adopted: as it was, unmarked
                self.folder.write(file_name, source_text(after.spec))
        except BackendError as error:
            return Result.failed(change, str(error))
        except OSError as error:
            where = error.filename or self.folder.path / file_name
            return Result.failed(change, f"{error.strerror or error} ({where}); it is unchanged")
        return Result.applied(change)

    def _check_adoptable(self, change: Change) -> None:
        """Refuse to adopt a file that is gone, now carries a marker, or changed since read."""
        text = self.folder.read(change.key.name)
        before = change.before
        if (
            text is None
            or before is None
            or self.marker(text) is not None
            or self.spec(text) != dict(before.spec)
        ):
            raise BackendError(
                f"{change.key} to adopt changed since it was read; nothing was written; "
                "hint: run again"
            )
        self.check_adopt(change)

    def _check_unchanged(self, change: Change) -> None:
        """Refuse when the file is no longer what the change was computed from."""
        text = self.folder.read(change.key.name)
        marker = self.marker(text) if text is not None else None
        if text is not None and (marker is None or marker.env != self.environment.name):
            raise BackendError(
                f"{change.key} exists but is not managed by Salam for environment "
                f"'{self.environment.name}'; it was left untouched"
            )
        before = change.before
        same = (
            text is None
            if before is None
            else text is not None and self.spec(text) == dict(before.spec)
        )
        if not same:
            raise BackendError(
                f"{change.key} changed since it was read; nothing was written; hint: run again"
            )
