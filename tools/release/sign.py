"""Publish the image to a registry by digest, signed; and check an image against a trust policy.

Containers' simple signing: ``skopeo copy --sign-by FINGERPRINT`` signs the manifest digest with
a GPG key and writes the signature where ``registries.d`` says (``lookaside-staging``); a node's
``policy.json`` (``deploy/containers/policy.json``) requires that signature for prod's registry.
:func:`verify` is the consumer's check, a ``skopeo copy`` under the policy: what a CRI-O or
Podman node does when it pulls. ``python -m tools.release.sign DEST --sign-by FINGERPRINT`` signs
the image ``dist/image.json`` records into ``DEST`` (``registry/repository``), tagged as built.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Registry:
    """How skopeo reaches a registry: its signature locations and whether TLS is verified."""

    registries_d: Path | None = None
    tls_verify: bool = True

    def options(self, side: str) -> list[str]:
        """skopeo copy options for the ``src`` or ``dest`` side."""
        tls = [] if self.tls_verify else [f"--{side}-tls-verify=false"]
        return tls + ([f"--registries.d={self.registries_d}"] if self.registries_d else [])


def publish(
    layout: Path, tag: str, destination: str, registry: Registry, sign_by: str | None = None
) -> str:
    """Copy ``layout:tag`` to ``docker://destination:tag`` (signed when ``sign_by``); its digest."""
    with tempfile.TemporaryDirectory() as scratch:
        digestfile = Path(scratch) / "digest"
        signing = [f"--sign-by={sign_by}"] if sign_by else []
        _skopeo(
            "copy", "--quiet", *registry.options("dest"), *signing,
            f"--digestfile={digestfile}", f"oci:{layout}:{tag}", f"docker://{destination}:{tag}",
        )  # fmt: skip
        return digestfile.read_text().strip()


def verify(reference: str, policy: Path, registry: Registry) -> subprocess.CompletedProcess[str]:
    """Pull ``docker://reference`` under ``policy`` as a node would; the completed skopeo run
    (exit 0: accepted; otherwise its stderr says why it was refused)."""
    with tempfile.TemporaryDirectory() as scratch:
        return subprocess.run(
            ["skopeo", f"--policy={policy}", "copy", "--quiet", *registry.options("src"),
             f"docker://{reference}", f"dir:{scratch}/image"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip


def _skopeo(*args: str) -> None:
    subprocess.run(["skopeo", *args], check=True, stdout=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.release.sign", description=__doc__)
    parser.add_argument("destination", help="registry/repository, e.g. registry.prod…/salam/ingest")
    parser.add_argument("--sign-by", required=True, help="GPG key fingerprint")
    parser.add_argument("--record", type=Path, default=Path("dist/image.json"))
    parser.add_argument("--registries.d", dest="registries_d", type=Path)
    options = parser.parse_args(argv)
    record = json.loads(options.record.read_text())
    layout = options.record.parent / record["layout"].rsplit(":", 1)[0]
    registry = Registry(options.registries_d)
    digest = publish(layout, record["tag"], options.destination, registry, options.sign_by)
    if digest != record["digest"]:
        print(
            f"error: {options.destination} holds {digest}, not {record['digest']}", file=sys.stderr
        )
        return 1
    print(f"{options.destination}@{digest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
