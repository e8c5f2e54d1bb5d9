"""A throw-away PostgreSQL 15 from the Debian binaries, for the job tests and the ingest bench.

initdb refuses root, so as root the server runs as the ``postgres`` user; the directory holds the
data, the socket and the log, and the server listens on 127.0.0.1 only, on a free port.
"""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_postgres(args: list[str]) -> list[str]:
    return args if os.geteuid() != 0 else ["runuser", "-u", "postgres", "--", *args]


def _run(args: list[str], check: bool = True) -> None:
    subprocess.run(_as_postgres(args), check=check, capture_output=True, timeout=120)


def start(directory: Path, password: str, settings: str = "") -> int:
    """initdb ``directory/data`` (md5, user ``postgres`` with ``password``), start it; the port.

    ``settings`` are more ``-c name=value`` server options.
    """
    directory.chmod(0o777)
    pwfile = directory / "pw"
    pwfile.write_text(password + "\n")
    pwfile.chmod(0o644)
    data = str(directory / "data")
    initdb = [str(PG_BIN / "initdb"), "-D", data, "-A", "md5", "-U", "postgres"]
    _run([*initdb, "--pwfile", str(pwfile), "--no-sync"])
    port = free_port()
    options = f"-p {port} -c listen_addresses=127.0.0.1 -k {directory} -c fsync=off {settings}"
    log = str(directory / "log")
    _run([str(PG_BIN / "pg_ctl"), "-D", data, "-o", options.strip(), "-l", log, "-w", "start"])
    return port


def stop(directory: Path, mode: str = "fast") -> None:
    """Stop the server of ``directory`` (``fast`` or ``immediate``); quiet when not running."""
    _run([str(PG_BIN / "pg_ctl"), "-D", str(directory / "data"), "-m", mode, "stop"], check=False)
