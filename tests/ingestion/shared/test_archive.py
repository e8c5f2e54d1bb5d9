"""Unpacking ``git archive`` output: what lands inside is extracted, a member escaping the
directory is refused — with Python's ``data`` filter, and without it as on Debian 12's own
Python 3.11.2 (no filters; found running the controller in the image)."""

from __future__ import annotations

import io
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from ingestion.shared import archive


@pytest.fixture(params=["with the data filter", "without filters (Python 3.11.2)"])
def python(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param.startswith("without"):
        monkeypatch.delattr(tarfile, "data_filter")
    return str(request.param)


def tar(*members: tuple[str, Callable[[tarfile.TarInfo], None]]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as out:
        for name, shape in members:
            info = tarfile.TarInfo(name)
            shape(info)
            content = b"x: 1\n" if info.isfile() else b""
            info.size = len(content)
            out.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def file(info: tarfile.TarInfo) -> None:
    info.type = tarfile.REGTYPE


def directory(info: tarfile.TarInfo) -> None:
    info.type, info.mode = tarfile.DIRTYPE, 0o755


def link_to(target: str, kind: bytes = tarfile.SYMTYPE) -> Callable[[tarfile.TarInfo], None]:
    def shape(info: tarfile.TarInfo) -> None:
        info.type, info.linkname = kind, target

    return shape


def test_files_directories_and_links_inside_are_extracted(python: str, tmp_path: Path) -> None:
    data = tar(("env", directory), ("env/job.yaml", file), ("env/alias.yaml", link_to("job.yaml")))
    archive.unpack(data, tmp_path)
    assert (tmp_path / "env/job.yaml").read_text() == "x: 1\n"
    assert (tmp_path / "env/alias.yaml").resolve() == (tmp_path / "env/job.yaml").resolve()


@pytest.mark.parametrize(
    ("name", "shape"),
    [
        ("../escaped.yaml", file),
        ("env/out.yaml", link_to("../../outside.yaml")),
        ("env/abs.yaml", link_to("/etc/passwd")),
        ("env/hard.yaml", link_to("../outside.yaml", tarfile.LNKTYPE)),
        ("env/device", lambda info: setattr(info, "type", tarfile.CHRTYPE)),
    ],
)
def test_a_member_escaping_the_directory_is_refused(
    python: str, tmp_path: Path, name: str, shape: Callable[[tarfile.TarInfo], None]
) -> None:
    target = tmp_path / "into"
    target.mkdir()
    with pytest.raises(archive.UnsafeMember) as refused:
        archive.unpack(tar(("env", directory), (name, shape)), target)
    assert refused.value.name.endswith(name.lstrip("/"))
    assert not (tmp_path / "escaped.yaml").exists()


def test_an_absolute_name_never_lands_outside(python: str, tmp_path: Path) -> None:
    """The data filter strips the leading slash; without filters it is refused."""
    outside = tmp_path / "outside.yaml"
    target = tmp_path / "into"
    target.mkdir()
    try:
        archive.unpack(tar((str(outside), file)), target)
    except archive.UnsafeMember:
        assert python.startswith("without")
    else:
        assert (target / str(outside).lstrip("/")).is_file()
    assert not outside.exists()
