"""Where the crontab lives: a user's crontab (the real ``crontab`` command) or a file.

Both read and write the whole text at once. A write is atomic: ``crontab -`` installs through
a temporary file and a rename, and the file target writes a temporary file in the same
directory, fsyncs it, renames it over the target and fsyncs the directory. A failed write leaves
the crontab exactly as it was and raises :class:`WriteError`. A target that cannot be used at
all (unknown user, no ``crontab`` command) raises :class:`BackendError`.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
from pathlib import Path
from typing import Protocol

from reconciler import atomicfile
from reconciler.backends.base import BackendError
from reconciler.backends.crontab.block import decode, encode

TIMEOUT_SECONDS = 60
NO_CRONTAB = b"no crontab for"
SPOOL = Path("/var/spool/cron/crontabs")
CRON_D = Path("/etc/cron.d")
HEADER_LINES = 3


class WriteError(Exception):
    """Writing the crontab failed; it is unchanged."""


class Target(Protocol):
    label: str
    reads: int
    writes: int

    def check(self) -> None: ...

    def read(self) -> str: ...

    def write(self, text: str) -> None: ...


class FileTarget:
    """A crontab file (one per environment), e.g. ``.salam/cron/salam-dev.cron``; with ``user``
    a cron.d-format file whose lines name that user (e.g. ``/etc/cron.d/salam-prod``)."""

    def __init__(self, path: Path, label: str, user: str | None = None) -> None:
        self.path = path
        self.label = label
        self.user = user
        self.reads = 0
        self.writes = 0

    def check(self) -> None:
        if self.path.exists() and not self.path.is_file():
            raise BackendError(
                f"crontab target {self.path} is not a regular file; "
                "hint: point crontab.target.file in environment.yaml at a file"
            )
        if self.user and self.path.parent == CRON_D and not _user_exists(self.user):
            raise BackendError(
                f"crontab target {self.path} runs its entries as user '{self.user}', who does "
                "not exist on this host (cron would skip them); hint: create the user or "
                "change crontab.target.user in environment.yaml"
            )

    def read(self) -> str:
        self.reads += 1
        try:
            return decode(self.path.read_bytes())
        except FileNotFoundError:
            return ""
        except OSError as error:
            raise BackendError(f"cannot read crontab file {self.path}: {error.strerror}") from None

    def write(self, text: str) -> None:
        self.writes += 1
        try:
            atomicfile.write(self.path, encode(text))
        except OSError as error:
            raise WriteError(
                f"cannot write crontab file {self.path}: {error.strerror}; it is unchanged"
            ) from None


class UserTarget:
    """A user's crontab through the ``crontab`` command (``-u USER`` unless it is ourselves)."""

    def __init__(self, user: str) -> None:
        self.user = user
        self.label = f"user:{user}"
        self.reads = 0
        self.writes = 0

    def check(self) -> None:
        if not _user_exists(self.user):
            raise BackendError(
                f"crontab target user '{self.user}' does not exist on this host; "
                "hint: create the user or change crontab.target.user in "
                "environment.yaml"
            )
        self._command()

    def read(self) -> str:
        self.reads += 1
        done = self._run("-l", failure=BackendError)
        if done.returncode == 0:
            return decode(self._exact(done.stdout))
        if done.returncode == 1 and NO_CRONTAB in done.stderr:
            return ""
        raise BackendError(
            f"crontab -l for user '{self.user}' failed "
            f"(exit {done.returncode}): {_message(done.stderr)}"
        )

    def write(self, text: str) -> None:
        self.writes += 1
        data = encode(text)
        done = self._run("-", data=data) if data else self._run("-r")
        if done.returncode != 0 and not (not data and NO_CRONTAB in done.stderr):
            raise WriteError(
                f"crontab for user '{self.user}' was not installed "
                f"(exit {done.returncode}): {_message(done.stderr)}; it is unchanged"
            )

    def _exact(self, listing: bytes) -> bytes:
        """The crontab's real bytes: Debian's ``crontab -l`` shows a carriage return as ``\\r``.

        Writing such a listing back would turn every CR into a backslash and an ``r``. When the
        listing holds ``\\r``, the installed file (root only) is read instead and accepted only
        if it lists exactly as ``crontab -l`` showed it.
        """
        if b"\\r" not in listing:
            return listing
        try:
            raw = (SPOOL / self.user).read_bytes()
        except OSError:
            raw = b""
        start = 0
        for _ in range(HEADER_LINES + 1):
            body = raw[start:]
            if body.replace(b"\r", b"\\r") == listing:
                return body
            start = raw.find(b"\n", start) + 1
            if start == 0:
                break
        raise BackendError(
            f"the crontab of user '{self.user}' holds carriage returns (CRLF line ends), which "
            "crontab -l cannot show exactly, and the installed file could not be read to "
            "confirm them; hint: run as root, or convert that crontab to LF line ends"
        )

    def _command(self) -> list[str]:
        binary = shutil.which("crontab")
        if binary is None:
            raise BackendError("the crontab command is not installed; hint: apt-get install cron")
        if pwd.getpwuid(os.geteuid()).pw_name == self.user:
            return [binary]
        return [binary, "-u", self.user]

    def _run(
        self, action: str, data: bytes | None = None, failure: type[Exception] = WriteError
    ) -> subprocess.CompletedProcess[bytes]:
        argv = [*self._command(), action]
        try:
            return subprocess.run(
                argv, input=data, capture_output=True, check=False, timeout=TIMEOUT_SECONDS
            )
        except subprocess.TimeoutExpired:
            raise failure(f"'{' '.join(argv)}' did not finish in {TIMEOUT_SECONDS} s") from None
        except OSError as error:
            raise BackendError(f"cannot run {argv[0]}: {error.strerror}") from None


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def _message(stderr: bytes) -> str:
    text = decode(stderr).strip().replace("\n", "; ")
    return text[:500] or "no message"
