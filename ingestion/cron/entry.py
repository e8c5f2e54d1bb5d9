"""One job's crontab entry as a structured value, rendered to text here and nowhere else.

A :class:`CrontabEntry` is what cron reads: the five schedule fields (in the host's zone, or
under ``cron_tz``), the command (``cd <workdir> && flock -n <lock> <argv> >> <log> 2>&1``,
shell-quoted, every bare ``%`` escaped since cron turns it into a newline) and the zone the
entry runs under when that is not the host's. :func:`build` makes one from a plan's parts; the
plan's ``crontab_line`` and the crontab backend's installed line are both :meth:`text` of the
value :func:`build` returns for the same inputs. A zone the target cron cannot honour raises
:class:`~ingestion.cron.dialect.ZoneError`.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ingestion.cron import dialect

DEFAULT_LOCK_DIR = ".salam/locks"
_UNESCAPED_PERCENT = re.compile(r"(?<!\\)%")  # cron turns a bare % into a newline


@dataclass(frozen=True)
class CrontabEntry:
    schedule: str
    command: str
    cron_tz: str | None = None

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any]) -> CrontabEntry:
        return cls(str(spec["schedule"]), str(spec.get("command") or ""), spec.get("cron_tz"))

    def spec(self) -> dict[str, Any]:
        """The canonical spec the crontab backend diffs: ``schedule``, ``command``, ``cron_tz``."""
        spec: dict[str, Any] = {"schedule": self.schedule, "command": self.command}
        if self.cron_tz:
            spec["cron_tz"] = self.cron_tz
        return spec

    def line(self) -> str:
        """The cron line itself (``CRON_TZ`` is a separate setting line)."""
        return f"{self.schedule} {self.command}".rstrip()

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
    run = f"cd {shlex.quote(workdir)} && flock -n {shlex.quote(lock)} {shlex.join(command)}"
    if log_file:
        run += f" >> {shlex.quote(log_file)} 2>&1"
    return CrontabEntry(schedule, _UNESCAPED_PERCENT.sub(r"\\%", run), cron_tz)
