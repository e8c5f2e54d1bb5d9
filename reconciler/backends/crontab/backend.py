"""The ``crontab`` backend: one fenced block per environment in a user's crontab or a file.

Canonical spec of an entry (desired and live alike): ``schedule`` (the 5 fields as installed),
``user`` in a cron.d-format file (a file in /etc/cron.d, or ``format: cron.d``: the user field
cron runs the command as), ``command`` (the rest of the line) and ``cron_tz`` when the entry
runs under ``CRON_TZ``; meta:
``digest`` (first 12 hex of the plan digest) and ``revision`` (short git revision, or ``-``).
Resources are named ``crontab/<target label>/<job>``, e.g. ``crontab/user:salam/orders`` or
``crontab/file:.salam/cron/salam-dev.cron/orders``.

A line outside every Salam block that runs the config of a job rendered here (recognised by
:mod:`ingestion.plan.recognise`) is read as that job's unmanaged resource: a conflict, or, when
the job may adopt it, moved into the block by the apply (the same write), marker added.

An apply reads the crontab once more (lines outside the block may have changed since
:meth:`read`), checks that the block is still what the changes were computed from, builds the
new block from the whole batch and writes the crontab once. Any failure leaves it unchanged
and fails every change of the batch.
"""

from __future__ import annotations

import fcntl
import os
import pwd
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ingestion.config.loader import Environment
from ingestion.cron import dialect, entry
from ingestion.cron.dialect import ZoneError
from ingestion.cron.entry import CrontabEntry
from ingestion.plan import recognise, render
from reconciler.backends.base import BackendError, Connected, Unmanaged, plan_meta, register
from reconciler.backends.crontab import block
from reconciler.backends.crontab.block import BlockError, Document, Item
from reconciler.backends.crontab.target import FileTarget, Target, UserTarget, WriteError
from reconciler.model import Action, Change, DesiredResource, LiveResource, ResourceKey, Result

NAME = "crontab"


@register(NAME)
class CrontabBackend(Connected):
    """The crontab of one environment, as configured under ``crontab`` in environment.yaml."""

    name = NAME

    def __init__(self, environment: Environment, target: Target | None = None) -> None:
        self.environment = environment
        self.settings: Mapping[str, Any] = environment.settings.get("crontab") or {}
        self.host_zone = str(self.settings.get("host_timezone", "UTC"))
        self._target = target
        self._dirs: tuple[str, str] | None = None
        self._configs: dict[str, str] = {}  # config path -> job, of the plans rendered here

    @property
    def target(self) -> Target:
        if self._target is None:
            self._target = make_target(self.environment, self.settings)
        return self._target

    def open(self) -> None:
        self.target.check()

    def key(self, job: str) -> ResourceKey:
        return ResourceKey(NAME, self.target.label, job)

    def location(self, key: ResourceKey) -> dict[str, Any]:
        return {"crontab.target": dict(self.settings.get("target") or {})}

    def render(self, plan: Mapping[str, Any]) -> DesiredResource:
        """The entry of one ``plain_cron`` plan, with absolute working and lock directories."""
        job = str(plan["job"])
        problems = dialect.backend_problems(str(plan["schedule"]["cron"]), NAME)
        if problems:
            summary, hint = problems[0]
            raise BackendError(f"crontab: job '{job}': {summary}; hint: {hint}")
        line = self._entry(plan, job)
        if "\n" in line.command or "\r" in line.command:
            raise BackendError(
                f"crontab: job '{job}': its command contains a line break, which "
                "a crontab line cannot hold"
            )
        config = (plan.get("bookkeeping") or {}).get("config_path")
        if config:
            self._configs[str(config)] = job
        return DesiredResource(self.key(job), job, line.spec(), plan_meta(plan))

    def _entry(self, plan: Mapping[str, Any], job: str) -> CrontabEntry:
        workdir, lock_dir = self._resolved_dirs()
        settings = {
            **self.environment.settings,
            "crontab": {**self.settings, "lock_dir": lock_dir, "host_timezone": self.host_zone},
        }
        try:
            return render.crontab_entry(plan, settings, workdir)
        except ZoneError as error:
            zone = plan["schedule"].get("timezone", "UTC")
            hint = (
                "use the host's zone or a fixed-offset zone, or declare "
                "crontab.supports_cron_tz for a cron that honours CRON_TZ"
            )
            raise BackendError(
                f"crontab: job '{job}' cannot be scheduled in time zone {zone}: "
                f"{error}; hint: {hint}"
            ) from None

    def read(self) -> list[LiveResource]:
        """The items of this environment's block (managed); nothing outside it."""
        self.target.check()
        document = self._parse(self.target.read())
        ours = [self._live(item) for item in document.items]
        return ours + self._foreign(document, {item.job for item in document.items})

    def _foreign(self, document: Document, taken: set[str]) -> list[LiveResource]:
        """Hand-written lines running the config of a job rendered here (not in the block)."""
        found: dict[str, LiveResource] = {}
        for _, line in block.outside(document.lines):
            spec = block.entry_spec(line, None, self._user_field)
            job = self._job_running(spec)
            if job and job not in taken and job not in found:
                meta = {"line": line}
                found[job] = LiveResource(self.key(job), job, spec, meta, managed=False)
        return list(found.values())

    def unmanaged(self) -> list[Unmanaged]:
        """Every hand-written cron line outside Salam's blocks (``reconcile import``), its
        schedule in the host's zone, as a ``plain_cron`` job would render it."""
        self.target.check()
        found = []
        for number, line in block.outside(self._parse(self.target.read()).lines):
            spec = block.entry_spec(line, None, self._user_field)
            if spec.get("schedule") is None:
                continue  # a comment, a blank or a variable line
            key = ResourceKey(NAME, self.target.label, f"line-{number}")
            found.append(self._importable(key, spec))
        return found

    def _importable(self, key: ResourceKey, spec: Mapping[str, Any]) -> Unmanaged:
        schedule = str(spec["schedule"])
        if schedule.startswith("@"):
            problem = f"schedule {schedule} is a macro: write it as five cron fields"
            return Unmanaged(key, command_line=str(spec["command"]), problem=problem)
        cron = {"expression": schedule, "timezone": self.host_zone}
        orchestration = {"mode": "plain_cron", "cron": cron}
        return Unmanaged(key, orchestration, command_line=str(spec["command"]))

    # -- a move (reconciler.move) -------------------------------------------------------------

    def paused(self, resource: DesiredResource, notes: tuple[str, str] | None = None) -> None:
        """A crontab line cannot be paused: a move to cron writes it at the switch."""
        return None

    def configured_pause(self, resource: DesiredResource) -> None:
        return None

    def running(self, live: LiveResource) -> bool:
        """Whether the entry's ``flock`` wrapper holds its lock (a run is in flight)."""
        lock = Path(self._resolved_dirs()[1]) / f"{self.environment.name}-{live.job}.lock"
        try:
            with lock.open("rb") as handle:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        except FileNotFoundError:
            return False
        return False

    def fires(self, live: LiveResource) -> tuple[str, str] | None:
        """The line's schedule, in ``CRON_TZ`` or the host's zone; None for a ``@`` macro."""
        schedule = str(live.spec.get("schedule") or "")
        if not schedule or schedule.startswith("@"):
            return None
        return schedule, str(live.spec.get("cron_tz") or self.host_zone)

    def _job_running(self, spec: Mapping[str, Any]) -> str | None:
        if spec.get("schedule") is None or not self._configs:
            return None
        try:
            found = recognise.command_line(str(spec["command"]))
        except recognise.Unrecognised:
            return None
        return self._configs.get(found.config_under(str(self._absolute("."))) or "")

    def apply(self, changes: Sequence[Change]) -> list[Result]:
        """Apply the whole batch with one read and one atomic write; all fail or none."""
        self.target.check()
        if not any(change.action is not Action.NOOP for change in changes):
            return [Result.applied(change) for change in changes]
        try:
            document = self._parse(self.target.read())
            _check_unchanged(document, changes)
            document = block.without(document, _adopted_lines(changes))
            document = block.given_back(document, _released_lines(changes))
            items = _apply_items(document.items, changes)
            lines = block.render_items(
                self.environment.name, items, self.host_zone, document.inherited_tz
            )
            text = block.replace_block(document, lines)
            self._prepare_dirs(changes)
            if text != "".join(document.lines):
                self.target.write(text)
        except (BackendError, WriteError, OSError) as error:
            message = str(error) if not isinstance(error, OSError) else _os_message(error)
            return [Result.failed(change, message) for change in changes]
        return [Result.applied(change) for change in changes]

    @property
    def _user_field(self) -> bool:
        return isinstance(self.target, FileTarget) and self.target.user is not None

    def _parse(self, text: str) -> Document:
        try:
            return block.parse(text, self.environment.name, self.host_zone, self._user_field)
        except BlockError as error:
            raise BackendError(f"crontab {self.target.label}: {error}") from None

    def _live(self, item: Item) -> LiveResource:
        return LiveResource(
            self.key(item.name),
            item.job or item.name,
            dict(item.spec),
            dict(item.meta),
            managed=True,
        )

    def _resolved_dirs(self) -> tuple[str, str]:
        """The absolute working and lock directories the installed lines use (computed once)."""
        if self._dirs is None:
            workdir = str(self.environment.settings.get("workdir", "."))
            self._dirs = (str(self._absolute(workdir)), str(self._absolute(self._lock_dir())))
        return self._dirs

    def _lock_dir(self) -> str:
        return str(self.settings.get("lock_dir", ".salam/locks"))

    def _absolute(self, path: str) -> Path:
        candidate = Path(path)
        if not candidate.is_absolute():
            candidate = Path(self.environment.root).resolve() / candidate
        return Path(os.path.normpath(candidate))

    def _prepare_dirs(self, changes: Sequence[Change]) -> None:
        """Create the lock directory the entries' ``flock`` needs, owned by the user the
        entries run as when that user exists here (a cron.d file may be meant for another
        host)."""
        if not any(change.after is not None for change in changes):
            return
        directory = self._absolute(self._lock_dir())
        if directory.is_dir():
            return
        directory.mkdir(parents=True, exist_ok=True)
        user = getattr(self.target, "user", None)
        if user and os.geteuid() == 0:
            try:
                entry = pwd.getpwnam(user)
            except KeyError:
                return
            os.chown(directory, entry.pw_uid, entry.pw_gid)


def make_target(environment: Environment, settings: Mapping[str, Any]) -> Target:
    """A file target (``file``, with ``user`` in cron.d format), else a user's crontab."""
    target = settings.get("target") or {}
    if "file" in target:
        return _file_target(environment, target)
    if "user" in target:
        return UserTarget(str(target["user"]))
    raise BackendError(
        f"environment '{environment.name}' has no crontab target; hint: set "
        "crontab.target.user or crontab.target.file in environment.yaml"
    )


def _file_target(environment: Environment, target: Mapping[str, Any]) -> FileTarget:
    relative = str(target["file"])
    path = Path(relative)
    if not path.is_absolute():
        path = Path(environment.root).resolve() / path
    user = entry.cron_d_user(target)
    if entry.file_format(target) == "cron.d" and user is None:
        raise BackendError(
            f"crontab target {relative} is a cron.d-format file, whose lines name the user "
            "cron runs them as; hint: set crontab.target.user in environment.yaml"
        )
    return FileTarget(path, f"file:{relative}", user)


def _check_unchanged(document: Document, changes: Sequence[Change]) -> None:
    """Refuse when the block no longer matches the state the changes were computed from."""
    now = {item.name: item for item in document.items}
    hand_written = [line for _, line in block.outside(document.lines)]
    for change in changes:
        if change.action is Action.NOOP:
            continue
        if change.action is Action.ADOPT:
            if _line(change) not in hand_written or change.key.name in now:
                raise BackendError(
                    f"the crontab line of '{change.key.name}' to adopt changed since it was "
                    "read; nothing was written; hint: run again"
                )
            continue
        current = now.get(change.key.name)
        before = change.before
        same = (
            (current is None)
            if before is None
            else (current is not None and dict(current.spec) == dict(before.spec))
        )
        if not same:
            raise BackendError(
                f"the crontab entry '{change.key.name}' changed since it was read; "
                "nothing was written; hint: run again"
            )


def _line(change: Change) -> str:
    return change.before.meta.get("line", "") if change.before is not None else ""


def _adopted_lines(changes: Sequence[Change]) -> list[str]:
    return [_line(change) for change in changes if change.action is Action.ADOPT]


def _released(change: Change) -> bool:
    """A restore giving back a line an apply adopted: out of the block, as it was."""
    return change.after is not None and not change.after.owned


def _released_lines(changes: Sequence[Change]) -> list[str]:
    return [c.after.meta.get("line", "") for c in changes if c.after and _released(c)]


def _apply_items(items: Sequence[Item], changes: Sequence[Change]) -> list[Item]:
    result = {item.name: item for item in items}
    for change in changes:
        if change.action is Action.NOOP:
            continue
        if change.action is Action.DELETE or change.after is None or _released(change):
            result.pop(change.key.name, None)
            continue
        after = change.after
        job = after.job if after.spec.get("line") is None else ""
        result[change.key.name] = Item(change.key.name, job, dict(after.spec), dict(after.meta))
    return list(result.values())


def _os_message(error: OSError) -> str:
    return f"{error.strerror or error} ({error.filename or 'crontab'}); the crontab is unchanged"
