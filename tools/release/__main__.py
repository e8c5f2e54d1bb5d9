"""``python -m tools.release [--dist DIR] [--no-image]``: build every release artifact of HEAD.

Exports the committed tree (:mod:`tools.release.source`), builds the wheel, the sdist and the
``--py-files`` zip (:mod:`tools.release.artifacts`), then the OCI image
(:mod:`tools.release.image`), and prints what it built with the digests. ``dist/`` then holds
the artifacts, ``SHA256SUMS``, ``artifacts.json``, the image's OCI layout and ``image.json``.
Run from the project root, as root (debootstrap and buildah's chroot need it);
``scripts/build.sh`` installs the tools first.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from tools.release import artifacts, image, source


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.release", description=__doc__)
    parser.add_argument("--dist", type=Path, default=Path("dist"), help="Output directory.")
    parser.add_argument("--no-image", action="store_true", help="Python artifacts only.")
    options = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="salam-build-", dir="/var/tmp"))
    try:
        return build(Path.cwd(), options.dist.resolve(), work, with_image=not options.no_image)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def build(root: Path, dist: Path, work: Path, with_image: bool) -> int:
    exported = source.export(root, work / "tree")
    if exported.dirty:
        say(f"note: uncommitted changes are not built: the artifacts are {exported.revision}'s")
    shutil.rmtree(dist, ignore_errors=True)
    built = artifacts.build(exported, dist)
    for artifact in built:
        say(f"{artifact.name}  sha256:{artifact.sha256}  {artifact.size:,} bytes")
    if with_image:
        wheel = next(a for a in built if a.name.endswith(".whl"))
        record = image.build(exported, wheel, dist, work)
        say(f"image {record['reference']}  {record['digest']}  {record['size']:,} bytes "
            f"({len(record['layers'])} layers, in {dist / image.LAYOUT})")  # fmt: skip
    return 0


def say(line: str) -> None:
    print(f"==> {line}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
