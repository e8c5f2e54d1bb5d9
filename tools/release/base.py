"""The base image: a Debian root filesystem from packages, since no base image can be pulled.

``debootstrap --variant=minbase`` with Java 17 (headless), the JDBC drivers, Python and git, as
root; docs, manuals, locales and the apt caches removed (each file's copyright notice kept);
committed as the one layer of ``localhost/salam/base:<suite>-<key>``. The key hashes this recipe,
so the image is built once per machine and recipe and reused by later builds (buildah's storage
is the cache). No compiler is installed.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from tools.release import buildah

SUITE = "bookworm"
MIRROR = os.environ.get("SALAM_DEBIAN_MIRROR", "http://deb.debian.org/debian")
PACKAGES = (
    "ca-certificates",
    "git",
    "libatomic1",  # regopy's native library links it
    "libpostgresql-jdbc-java",
    "libxerial-sqlite-jdbc-java",
    "openjdk-17-jre-headless",
    "python3",
)
REMOVED = ("var/cache/apt", "var/lib/apt/lists", "usr/share/man", "usr/share/info",
           "usr/share/locale")  # fmt: skip
CONFIG = ["--env", "LANG=C.UTF-8", "--env", "PATH=/usr/local/bin:/usr/bin:/bin"]
RECIPE_VERSION = 1  # bump when the steps below change what the root filesystem holds


def image_name() -> str:
    recipe = json.dumps([RECIPE_VERSION, SUITE, MIRROR, PACKAGES, REMOVED, CONFIG])
    return f"localhost/salam/base:{SUITE}-{hashlib.sha256(recipe.encode()).hexdigest()[:12]}"


def ensure(work: Path) -> str:
    """The base image's name, building it under ``work`` unless this machine has it."""
    image = image_name()
    if buildah.exists(image):
        print(f"==> base image {image} (built before on this machine)", file=sys.stderr)
        return image
    if os.geteuid() != 0:
        raise PermissionError("debootstrap needs root to build the base image: run as root")
    print(f"==> debootstrap {SUITE} ({', '.join(PACKAGES)}) for {image}", file=sys.stderr)
    with tempfile.TemporaryDirectory(dir=work) as scratch:
        rootfs = Path(scratch) / "rootfs"
        subprocess.run(
            ["debootstrap", "--variant=minbase", f"--include={','.join(PACKAGES)}", SUITE,
             str(rootfs), MIRROR],
            check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        slim(rootfs)
        buildah.import_rootfs(rootfs, image, CONFIG)
    return image


def slim(rootfs: Path) -> None:
    """Remove what a container never reads; keep every package's copyright notice."""
    for relative in REMOVED:
        shutil.rmtree(rootfs / relative, ignore_errors=True)
    for path in sorted((rootfs / "usr/share/doc").rglob("*"), reverse=True):
        if path.is_dir() and not path.is_symlink():
            if not any(path.iterdir()):
                path.rmdir()
        elif path.name != "copyright":
            path.unlink()
