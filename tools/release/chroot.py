"""Run an image's commands without a container runtime: unpack it, then chroot as its user.

``podman run`` cannot run here (crun refuses cgroups in hybrid mode), so an image is unpacked
from its OCI layout with ``umoci`` into a runtime bundle, and a command runs in
``unshare --mount --pid --fork`` + ``chroot``, with the process settings the image's config
gives (user, environment, working directory), a private ``/proc``, ``/dev`` and ``/tmp``, and the
``/etc/hosts`` a runtime writes into every container (the image's own is empty: buildah leaves
it so, since runtimes provide it). Used by the image tests; needs root (as umoci and chroot do).
"""

from __future__ import annotations

import json
import socket
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

# Inside the new mount namespace: mount what a process expects, then become the image's user.
_ENTER = """set -e
root="$1"; user="$2"; hosts="$3"; shift 3
mount --rbind /dev "$root/dev"
mount --bind "$hosts" "$root/etc/hosts"
mount -t proc proc "$root/proc"
mount -t tmpfs tmpfs "$root/tmp"
exec chroot --userspec="$user" "$root" /usr/bin/env -i "$@"
"""
# Inside the chroot: start in the image's working directory.
_IN_WORKDIR = 'cd "$0" && exec "$@"'


@dataclass(frozen=True)
class Bundle:
    """An unpacked image: its root filesystem and how its processes start."""

    rootfs: Path
    hosts: Path
    env: tuple[str, ...]
    cwd: str
    uid: int
    gid: int

    def run(
        self, argv: Sequence[str], timeout: float, env: Sequence[str] = ()
    ) -> subprocess.CompletedProcess[str]:
        """Run ``argv`` in the image as its user; output captured, never raises on exit."""
        command = [
            "unshare", "--mount", "--pid", "--fork", "--propagation", "private",
            "sh", "-c", _ENTER, "enter",
            str(self.rootfs), f"{self.uid}:{self.gid}", str(self.hosts),
            *self.env, *env, "/bin/sh", "-c", _IN_WORKDIR, self.cwd, *argv,
        ]  # fmt: skip
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)


def unpack(layout: Path, tag: str, into: Path) -> Bundle:
    """Unpack ``layout:tag`` into the bundle directory ``into`` (which must not exist)."""
    subprocess.run(
        ["umoci", "unpack", "--image", f"{layout}:{tag}", str(into)],
        check=True,
        capture_output=True,
    )
    process = json.loads((into / "config.json").read_text())["process"]
    hosts = into / "hosts"
    hosts.write_text(f"127.0.0.1\tlocalhost\n::1\tlocalhost\n127.0.1.1\t{socket.gethostname()}\n")
    return Bundle(
        rootfs=into / "rootfs",
        hosts=hosts,
        env=tuple(process.get("env", ())),
        cwd=process.get("cwd", "/"),
        uid=int(process["user"]["uid"]),
        gid=int(process["user"]["gid"]),
    )
