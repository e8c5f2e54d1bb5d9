"""The Salam image: its build context, the build, the OCI layout it is released as, its record.

The context holds ``wheels/`` (Salam's wheel, every dependency as a wheel, and pip's own wheel to
install them with) and ``config/`` (the committed ``environments/`` and ``policies/``). The image
is built from ``image/Containerfile`` on the base image (:mod:`tools.release.base`), tagged
``localhost/salam/ingest:<version>-g<revision>``, and written to the OCI layout ``dist/image``:
its manifest digest there is the image's identity, which ``skopeo copy`` keeps when it pushes the
layout to a registry. ``dist/image.json`` records the reference, digest, size and layers.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tools.release import artifacts, base, buildah
from tools.release.source import Source

REPOSITORY = "salam/ingest"
CONTAINERFILE = Path("image/Containerfile")
CONFIG_DIRS = ("environments", "policies")
LAYOUT = "image"
RECORD = "image.json"


def build(source: Source, wheel: artifacts.Artifact, dist: Path, work: Path) -> dict[str, Any]:
    """Build the image of ``source`` with ``wheel`` (built into ``dist``, its digest known);
    write the layout and record to ``dist``."""
    base_image = base.ensure(work)
    context = work / "context"
    shutil.rmtree(context, ignore_errors=True)
    wheelhouse(dist / wheel.name, context / "wheels")
    for name in CONFIG_DIRS:
        shutil.copytree(source.tree / name, context / "config" / name)
    local = f"localhost/{REPOSITORY}:{source.tag}"
    args = {
        "BASE": base_image,
        "VERSION": source.version,
        "WHEEL": wheel.sha256,
        "DEPENDENCIES": dependencies_digest(context / "wheels", wheel.name),
    }
    buildah.build(source.tree / CONTAINERFILE, context, local, args, labels(source))
    layout = dist / LAYOUT
    shutil.rmtree(layout, ignore_errors=True)
    buildah.push_oci_layout(local, layout, source.tag)
    document = describe(layout, source, base_image)
    (dist / RECORD).write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
    return document


def labels(source: Source) -> dict[str, str]:
    """The OCI annotations of the image: what it is, its version, revision and build time."""
    created = datetime.fromtimestamp(source.epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "org.opencontainers.image.title": "salam",
        "org.opencontainers.image.version": source.version,
        "org.opencontainers.image.revision": source.revision,
        "org.opencontainers.image.created": created,
        "org.opencontainers.image.licenses": "Apache-2.0",
    }


def wheelhouse(wheel: Path, into: Path) -> None:
    """Salam's wheel, its dependencies' wheels and pip's, in ``into``.

    The dependencies are the versions installed beside this build tool (``pip freeze`` of the
    environment the tests ran in, as constraints), so the image carries what was tested. pip's
    cache keeps the wheels it built from source, pyspark's among them, for the next build.
    """
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    frozen = subprocess.run(
        [*pip, "freeze", "--exclude-editable"], check=True, capture_output=True, text=True
    ).stdout
    into.mkdir(parents=True)
    constraints = into.parent / "constraints.txt"
    constraints.write_text(frozen)
    subprocess.run(
        [*pip, "wheel", "--quiet", "--constraint", str(constraints), "--wheel-dir", str(into),
         str(wheel)],
        check=True,
    )  # fmt: skip
    subprocess.run(
        [*pip, "download", "--quiet", "--no-deps", "--only-binary=:all:", "--dest", str(into),
         "pip"],
        check=True,
    )  # fmt: skip


def dependencies_digest(wheels: Path, own: str) -> str:
    """One sha256 over every wheel in the house but Salam's own: the dependency layer's key."""
    lines = (
        f"{artifacts.describe(path).sha256}  {path.name}\n"
        for path in sorted(wheels.glob("*.whl"))
        if path.name != own
    )
    return hashlib.sha256("".join(lines).encode()).hexdigest()


def describe(layout: Path, source: Source, base_image: str) -> dict[str, Any]:
    """The record of the built image: reference, digest, size and layers (largest first)."""
    manifest = buildah.inspect_layout(layout, source.tag)
    layers = [
        {"digest": layer["digest"], "size": layer["size"]}
        for layer in buildah.layout_manifest(layout, source.tag)["layers"]
    ]
    return {
        "repository": REPOSITORY,
        "tag": source.tag,
        "reference": f"{REPOSITORY}:{source.tag}",
        "digest": manifest["Digest"],
        "version": source.version,
        "revision": source.revision,
        "base": base_image,
        "layout": f"{LAYOUT}:{source.tag}",
        "size": sum(layer["size"] for layer in layers),
        "layers": sorted(layers, key=lambda layer: -layer["size"]),
    }
