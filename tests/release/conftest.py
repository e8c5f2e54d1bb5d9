"""Fixtures of the release tests: the image built once per session by ``scripts/build.sh`` (the
README's build command) into a throw-away ``dist``, and its unpacked bundle.

Building needs root (debootstrap, buildah's chroot), as CI and the README's commands run; the
first build on a machine makes the Debian base image (about a minute), later ones reuse it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT
from tools.release import chroot

BUILD_SECONDS = 1500


@dataclass(frozen=True)
class Built:
    """What one run of scripts/build.sh left: its dist directory and the image record."""

    dist: Path
    record: dict[str, Any]

    @property
    def layout(self) -> Path:
        return self.dist / "image"


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    if os.geteuid() != 0:
        pytest.skip("building the image needs root (debootstrap and buildah's chroot)")
    dist = tmp_path_factory.mktemp("dist")
    subprocess.run(
        ["bash", "scripts/build.sh", "--dist", str(dist)],
        cwd=ROOT,
        check=True,
        timeout=BUILD_SECONDS,
    )
    return Built(dist, json.loads((dist / "image.json").read_text()))


@pytest.fixture(scope="session")
def bundle(built: Built, tmp_path_factory: pytest.TempPathFactory) -> Iterator[chroot.Bundle]:
    directory = tmp_path_factory.mktemp("bundle") / "image"
    unpacked = chroot.unpack(built.layout, built.record["tag"], directory)
    yield unpacked
    shutil.rmtree(directory, ignore_errors=True)
