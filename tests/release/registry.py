"""A real OCI registry on loopback (Debian's docker-registry, the CNCF distribution server) and
throw-away GPG keys, for the signing and promotion tests.

:class:`LocalRegistry` starts ``docker-registry serve`` on a free port with its storage in a
temporary directory and waits for ``/v2/``; :func:`new_key` makes a passphrase-less signing key
in its own GnuPG home and exports its public key, as a release key is handed to nodes.
"""

from __future__ import annotations

import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tests.reconciler.backends.temporal.server import free_port

READY_SECONDS = 30


class LocalRegistry:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.address = f"127.0.0.1:{free_port()}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        config = self.directory / "config.yml"
        config.write_text(
            "version: 0.1\n"
            f"storage:\n  filesystem:\n    rootdirectory: {self.directory / 'storage'}\n"
            f"http:\n  addr: {self.address}\n"
            "log:\n  level: error\n"
        )
        self.process = subprocess.Popen(
            ["docker-registry", "serve", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=(self.directory / "registry.log").open("wb"),
        )
        deadline = time.monotonic() + READY_SECONDS
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://{self.address}/v2/", timeout=2):
                    return
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"docker-registry did not start: {self.directory / 'registry.log'}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@dataclass(frozen=True)
class Key:
    """A GPG signing key: its GnuPG home, fingerprint and exported public keyring."""

    home: Path
    fingerprint: str
    public: Path


def new_key(directory: Path, name: str) -> Key:
    home = directory / f"gnupg-{name}"
    home.mkdir(mode=0o700)
    gpg = ["gpg", "--homedir", str(home), "--batch", "--quiet"]
    subprocess.run(
        [*gpg, "--pinentry-mode", "loopback", "--passphrase", "", "--quick-gen-key",
         f"{name} <{name}@salam.invalid>", "ed25519", "sign", "1d"],
        check=True, capture_output=True,
    )  # fmt: skip
    listing = subprocess.run(
        [*gpg, "--with-colons", "--list-secret-keys"], check=True, capture_output=True, text=True
    ).stdout
    fingerprint = next(line.split(":")[9] for line in listing.splitlines() if line[:4] == "fpr:")
    public = directory / f"{name}.gpg"
    public.write_bytes(
        subprocess.run([*gpg, "--export", fingerprint], check=True, capture_output=True).stdout
    )
    return Key(home, fingerprint, public)
