"""A real Debian ``cron -f`` in a private mount namespace, for tests that let cron run entries.

:class:`CronNamespace` starts a holder process with ``unshare --mount --propagation private``
that mounts empty tmpfs over ``/var/spool/cron/crontabs``, ``/etc/cron.d`` and ``/run`` and an
empty file over ``/etc/crontab``, so the host's crontabs neither run nor get touched. Inside
it, ``/etc/pam.d/cron`` makes ``pam_loginuid`` optional (as container images of Debian cron
do): where the process tree's login uid cannot be set again, the required module fails the
job's PAM session and cron silently runs nothing.
:meth:`run` runs any command in the namespace, e.g. the ``reconcile`` CLI writing its file
target ``/etc/cron.d/<name>``; :meth:`start_cron` then starts ``cron -f`` inside it
(``nsenter``). Start cron *after* writing what it should run: cron reloads only when the
newest mtime of its spool, /etc/crontab and /etc/cron.d changes, in whole seconds, so a file
written in the second of cron's own first read is never seen. :meth:`stop` ends cron and the
holder by PID; :meth:`log` is what cron said. Needs root, ``cron`` and util-linux.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from pathlib import Path

READY_SECONDS = 20
PAM_CRON = Path("/etc/pam.d/cron")
SETUP = """
set -e
mount -t tmpfs -o mode=1730 salam-spool /var/spool/cron/crontabs
mount -t tmpfs -o mode=755 salam-crond /etc/cron.d
mount -t tmpfs -o mode=755 salam-run /run
mount --bind "$1" /etc/crontab
[ ! -e /etc/pam.d/cron ] || mount --bind "$2" /etc/pam.d/cron
echo ready
exec sleep 100000
"""


def missing() -> str | None:
    """Why the daemon cannot run here, or None."""
    for tool in ("cron", "unshare", "nsenter"):
        if shutil.which(tool) is None:
            return f"'{tool}' is not installed (apt-get install -y cron util-linux)"
    return None


class CronNamespace:
    """A private mount namespace with a real cron daemon in it."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.holder: subprocess.Popen[str] | None = None
        self.cron: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        empty = self.directory / "crontab"
        empty.write_text("")
        pam = self.directory / "pam-cron"
        pam.write_text(_loginuid_optional(PAM_CRON.read_text() if PAM_CRON.exists() else ""))
        argv = ["unshare", "--mount", "--propagation", "private", "sh", "-c", SETUP, "sh"]
        self.holder = subprocess.Popen(
            [*argv, str(empty), str(pam)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert self.holder.stdout is not None
        line = self.holder.stdout.readline().strip()  # the holder prints one line, then sleeps
        if line != "ready":
            self.stop()
            raise RuntimeError(f"could not set up the cron namespace: {line}")

    def start_cron(self) -> None:
        """Start ``cron -f`` in the namespace and wait until it has written its pid file."""
        assert self.holder is not None
        log = (self.directory / "cron.log").open("ab")
        self.cron = subprocess.Popen(
            ["nsenter", "-t", str(self.holder.pid), "-m", "cron", "-f", "-L", "15"],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + READY_SECONDS
        while self.run("test", "-s", "/run/crond.pid").returncode != 0:
            if self.cron.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("cron -f did not start in the namespace")
            time.sleep(0.1)

    def run(self, *argv: str | Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """Run ``argv`` in the namespace (it sees the namespace's /etc/cron.d)."""
        assert self.holder is not None
        return subprocess.run(
            ["nsenter", "-t", str(self.holder.pid), "-m", *map(str, argv)],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def log(self) -> str:
        """What cron printed (``-L 15``: every job start and end, every reload)."""
        path = self.directory / "cron.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        """End cron, then the holder (the namespace and its mounts go with it)."""
        for process in (self.cron, self.holder):
            if process is None or process.poll() is not None:
                continue
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        if self.holder is not None and self.holder.stdout is not None:
            self.holder.stdout.close()
        self.cron = self.holder = None


def _loginuid_optional(text: str) -> str:
    return re.sub(r"(?m)^(session\s+)required(\s+pam_loginuid\.so)", r"\1optional\2", text)
