"""The image, built by scripts/build.sh and run for real: unpacked from its OCI layout and its
entrypoints run in a chroot as the image's own user (tools.release.chroot), since no container
runtime runs here. Its record is checked against skopeo's reading of the layout."""

from __future__ import annotations

import json
import subprocess

import pytest

from ingestion import __version__
from tests.conftest import ROOT
from tests.release.conftest import Built
from tools.release import chroot

RUN_SECONDS = 300
DEMO_JOB = "environments/dev/jobs/miniboss_bss.yaml"  # customers and accounts, from SQLite
COMPILERS = ("gcc", "cc", "c++", "g++", "clang", "make")


def head() -> str:
    return subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()


def succeed(bundle: chroot.Bundle, *argv: str) -> str:
    result = bundle.run(argv, RUN_SECONDS)
    assert result.returncode == 0, f"{argv}: {result.stdout}\n{result.stderr}"
    return result.stdout


def test_the_image_is_tagged_by_version_and_revision_and_recorded_by_digest(built: Built) -> None:
    record = built.record
    assert record["tag"] == f"{__version__}-g{head()[:12]}"
    assert record["revision"] == head()
    assert "latest" not in record["tag"]
    inspected = json.loads(
        subprocess.run(
            ["skopeo", "inspect", f"oci:{built.layout}:{record['tag']}"],
            capture_output=True, text=True, check=True,
        ).stdout
    )  # fmt: skip
    assert inspected["Digest"] == record["digest"]
    assert inspected["Labels"]["org.opencontainers.image.version"] == __version__
    assert inspected["Labels"]["org.opencontainers.image.revision"] == head()
    sizes = [layer["size"] for layer in record["layers"]]
    assert sizes == sorted(sizes, reverse=True) and record["size"] == sum(sizes)
    assert len(sizes) >= 3  # the OS, the dependencies and Salam are separate layers


def test_the_image_runs_as_a_non_root_user_and_holds_no_compiler(bundle: chroot.Bundle) -> None:
    assert bundle.uid != 0
    assert succeed(bundle, "id", "-u").strip() == str(bundle.uid)
    present = [c for c in COMPILERS if (bundle.rootfs / "usr/bin" / c).exists()]
    assert present == []
    assert not (bundle.rootfs / "opt/salam/bin/pip").exists()
    assert 'openjdk version "17' in bundle.run(["java", "-version"], RUN_SECONDS).stderr


@pytest.mark.parametrize(
    "argv",
    [["reconcile", "--help"], ["reconcile", "serve", "--help"], ["ingest", "worker", "--help"],
     ["ingest", "run", "--help"]],
)  # fmt: skip
def test_every_entrypoint_starts(bundle: chroot.Bundle, argv: list[str]) -> None:
    assert "Usage:" in succeed(bundle, *argv)


def test_the_embedded_environment_validates_in_the_image(bundle: chroot.Bundle) -> None:
    """Policies, the cron dialect and the Spark lock (the image's Debian jars) all agree."""
    assert "Environment 'dev' is valid" in succeed(bundle, "reconcile", "validate", "--env", "dev")


def test_an_ingestion_runs_inside_the_image_into_its_lake(bundle: chroot.Bundle) -> None:
    generated = succeed(bundle, "ingest", "demo-source")
    expected = {
        line.split()[0]: int(line.split()[1]) for line in generated.splitlines() if "rows" in line
    }
    summary = json.loads(succeed(bundle, "ingest", "run", "--config", DEMO_JOB, "--json"))
    assert summary["ok"] is True
    written = {t["source"]: t["rows_written"] for t in summary["tables"]}
    assert written == {"customers": expected["customers"], "accounts": expected["accounts"]}
    assert all(t["status"] == "committed" for t in summary["tables"])
    lake = bundle.rootfs / "srv/salam/.salam/lake"
    metadata = sorted(lake.glob("warehouse/**/metadata/*.metadata.json"))
    assert metadata and all(path.stat().st_uid == bundle.uid for path in metadata)
    again = json.loads(succeed(bundle, "ingest", "run", "--config", DEMO_JOB, "--json"))
    assert [t["rows_written"] for t in again["tables"]] == [0, 0]  # incremental: nothing new
