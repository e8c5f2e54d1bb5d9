"""The Python artifacts: wheel and sdist (``python -m build``) and the ``--py-files`` zip.

All three are built from the exported revision (:mod:`tools.release.source`) with
``SOURCE_DATE_EPOCH`` set to the commit time, so building one revision twice gives the same
bytes. The zip holds the ``ingestion`` package for Spark executors (``spark-submit --py-files``)
with fixed timestamps and modes. :func:`record` writes ``SHA256SUMS`` (``sha256sum -c`` reads it)
and ``artifacts.json`` beside them.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import time
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path

from tools.release.source import Source

ZIP_PACKAGE = "ingestion"
SUMS = "SHA256SUMS"
RECORD = "artifacts.json"
_STAMPS = {"mtime", "atime", "ctime", "uid", "gid", "uname", "gname"}


@dataclass(frozen=True)
class Artifact:
    """One built file and its digest."""

    name: str
    sha256: str
    size: int


def build(source: Source, out: Path) -> list[Artifact]:
    """Build the wheel, the sdist and the zip of ``source`` into ``out``; record them."""
    out.mkdir(parents=True, exist_ok=True)
    built = [*_wheel_and_sdist(source, out), pyfiles_zip(source, out)]
    artifacts = [describe(path) for path in sorted(built)]
    record(artifacts, source, out)
    return artifacts


def _wheel_and_sdist(source: Source, out: Path) -> list[Path]:
    before = set(out.iterdir())
    env = {**os.environ, "SOURCE_DATE_EPOCH": str(source.epoch)}
    subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(source.tree)],
        check=True,
        env=env,
        stdout=sys.stderr,
    )
    built = sorted(set(out.iterdir()) - before)
    for sdist in (p for p in built if p.name.endswith(".tar.gz")):
        normalise_tarball(sdist, source.epoch)
    return built


def normalise_tarball(path: Path, epoch: int) -> None:
    """Rewrite a ``.tar.gz`` with every time set to ``epoch``, owners 0 and members sorted.

    setuptools stamps the sdist's generated files, its directories and the gzip header with the
    build time, whatever ``SOURCE_DATE_EPOCH`` says; the content is left as it is.
    """
    with tarfile.open(path) as original:
        members = sorted(
            ((m, original.extractfile(m)) for m in original.getmembers()),
            key=lambda pair: pair[0].name,
        )
        buffer = io.BytesIO()
        with (
            gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=epoch) as zipped,
            tarfile.open(fileobj=zipped, mode="w", format=tarfile.PAX_FORMAT) as tar,
        ):
            for member, content in members:
                member.mtime, member.uid, member.gid = epoch, 0, 0
                member.uname = member.gname = ""
                member.pax_headers = {
                    k: v for k, v in member.pax_headers.items() if k not in _STAMPS
                }
                tar.addfile(member, content)
    path.write_bytes(buffer.getvalue())


def pyfiles_zip(source: Source, out: Path) -> Path:
    """``salam-<version>-py-files.zip``: the ``ingestion`` package, byte-for-byte reproducible."""
    path = out / f"salam-{source.version}-py-files.zip"
    stamp = time.gmtime(max(source.epoch, 315532800))[:6]  # a zip cannot date before 1980
    files = sorted(
        p for p in (source.tree / ZIP_PACKAGE).rglob("*") if p.is_file() and p.suffix != ".pyc"
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in files:
            info = zipfile.ZipInfo(file.relative_to(source.tree).as_posix(), stamp)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, file.read_bytes())
    return path


def describe(path: Path) -> Artifact:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return Artifact(path.name, digest.hexdigest(), path.stat().st_size)


def record(artifacts: list[Artifact], source: Source, out: Path) -> None:
    """Write ``SHA256SUMS`` and ``artifacts.json`` (version, revision, files)."""
    (out / SUMS).write_text("".join(f"{a.sha256}  {a.name}\n" for a in artifacts))
    document = {
        "version": source.version,
        "revision": source.revision,
        "source_date_epoch": source.epoch,
        "artifacts": [asdict(a) for a in artifacts],
    }
    (out / RECORD).write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
