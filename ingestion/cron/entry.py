"""One job's crontab entry as a structured value, rendered to text here and nowhere else.

A :class:`CrontabEntry` is what cron reads: the five schedule fields (in the host's zone, or
under ``cron_tz``), in a cron.d-format file the user cron runs the command as, the command
(``cd <workdir> && flock -n <lock> <argv> >> <log> 2>&1``) and the zone the entry runs under
when that is not the host's. :func:`build` makes one from a plan's parts; the plan's
``crontab_line`` and the crontab backend's installed line are both :meth:`text` of the value
:func:`build` returns for the same inputs. A zone the target cron cannot honour raises
:class:`~ingestion.cron.dialect.ZoneError`.

The command cron runs is exactly the plan's argv. cron cuts a line at a bare ``%`` (the rest
goes to stdin) and reads ``\\%`` as ``%``; Debian's cron also reads ``\\\\`` as ``\\``, other
crons do not. So every word is shell-quoted such that no backslash ever stands before a
backslash or a ``%`` (a word is cut there and its pieces quoted apart: ``a\\%b`` becomes
``'a\\'%b``), and then every ``%`` is written ``\\%``: each cron turns that back into the
quoted words, which the shell turns back into the argv (checked with the real ``cron -f``).
"""

from __future__ import annotations

import functools
import os
import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ingestion.cron import dialect

DEFAULT_LOCK_DIR = ".salam/locks"
CRON_D = "/etc/cron.d"
_CUT = re.compile(r"(?<=\\)(?=[\\%])")  # between a backslash and a backslash or % after it


@dataclass(frozen=True)
class CrontabEntry:
    schedule: str
    command: str
    cron_tz: str | None = None
    user: str | None = None  # the user field of a cron.d-format file

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any]) -> CrontabEntry:
        return cls(
            str(spec["schedule"]),
            str(spec.get("command") or ""),
            spec.get("cron_tz"),
            spec.get("user"),
        )

    def spec(self) -> dict[str, Any]:
        """The canonical spec the crontab backend diffs: ``schedule``, ``command``, ``cron_tz``
        and, in a cron.d-format file, ``user``."""
        spec: dict[str, Any] = {"schedule": self.schedule, "command": self.command}
        if self.cron_tz:
            spec["cron_tz"] = self.cron_tz
        if self.user:
            spec["user"] = self.user
        return spec

    def line(self) -> str:
        """The cron line itself (``CRON_TZ`` is a separate setting line)."""
        fields = f"{self.schedule} {self.user}" if self.user else self.schedule
        return f"{fields} {self.command}".rstrip()

    def text(self) -> str:
        """The entry as a crontab holds it: a ``CRON_TZ=`` line first when it needs one."""
        return f"CRON_TZ={self.cron_tz}\n{self.line()}" if self.cron_tz else self.line()


def build(
    *,
    expression: str,
    zone: str,
    settings: Mapping[str, Any],
    workdir: str,
    job_id: str,
    command: Sequence[str],
    log_file: str | None,
) -> CrontabEntry:
    """The entry of one job; ``settings`` is the environment's ``crontab`` section."""
    host_zone = str(settings.get("host_timezone", "UTC"))
    if settings.get("supports_cron_tz") and zone != host_zone:
        schedule, cron_tz = expression, zone
    else:
        schedule, cron_tz = dialect.translate(expression, zone, host_zone), None
    lock = f"{settings.get('lock_dir', DEFAULT_LOCK_DIR)}/{job_id}.lock"
    run = f"cd {quote(workdir)} && flock -n {quote(lock)} {' '.join(map(quote, command))}"
    if log_file:
        run += f" >> {quote(log_file)} 2>&1"
    user = cron_d_user(settings.get("target") or {})
    return CrontabEntry(schedule, run.replace("%", "\\%"), cron_tz, user)


@functools.lru_cache(maxsize=8192)  # pure; a thousand jobs' commands repeat the same words
def quote(word: str) -> str:
    """``word`` for the shell, with no backslash before a backslash or a ``%`` (see above)."""
    return "".join(shlex.quote(piece) for piece in _CUT.split(word))


def file_format(target: Mapping[str, Any]) -> str:
    """``cron.d`` or ``crontab``: the format of a file target (``crontab.target``)."""
    if target.get("format"):
        return str(target["format"])
    return "cron.d" if in_cron_d(str(target.get("file", ""))) else "crontab"


def in_cron_d(path: str) -> bool:
    """True for a file directly in /etc/cron.d (the only place cron reads such files)."""
    return os.path.dirname(os.path.normpath(path)) == CRON_D


def cron_d_user(target: Mapping[str, Any]) -> str | None:
    """The user field of a file target's lines: its ``user`` in a cron.d-format file."""
    if "file" not in target or file_format(target) != "cron.d" or not target.get("user"):
        return None
    return str(target["user"])
