"""Signed for prod: the built image, published by digest into a real registry on loopback that
stands in for prod's, is accepted under the committed trust policy (deploy/containers) only when
the release key signed it; and the digest prod's overlay pins is one that came through uat.

The policy and signature locations are the committed files with prod's registry name and key
path moved onto the loopback registry and the throw-away key: skopeo, under that policy, is the
node pulling the image (CRI-O and Podman read the same files).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from reconciler.backends.memory import Store
from tests.conftest import ROOT, run_reconcile
from tests.manifests import kustomize
from tests.reconciler.engine import conftest as memory_fixtures
from tests.reconciler.gitops.conftest import commit, git
from tests.release.conftest import Built
from tests.release.registry import Key, LocalRegistry, new_key
from tools.release import sign

store = memory_fixtures.store
PROD_SCOPE = "registry.prod.example.com/salam"
TRUST = ROOT / "deploy" / "containers"


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRegistry]:
    server = LocalRegistry(tmp_path_factory.mktemp("registry"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Key]:
    directory = tmp_path_factory.mktemp("keys")
    return {name: new_key(directory, name) for name in ("release", "intruder")}


@pytest.fixture(scope="module")
def trust(
    registry: LocalRegistry, keys: dict[str, Key], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, sign.Registry]:
    """The committed policy.json and registries.d, moved onto the loopback registry."""
    directory = tmp_path_factory.mktemp("trust")
    scope = f"{registry.address}/salam"
    policy = json.loads((TRUST / "policy.json").read_text())
    rules = policy["transports"]["docker"].pop(PROD_SCOPE)
    assert [r["type"] for r in rules] == ["signedBy"]
    rules[0]["keyPath"] = str(keys["release"].public)
    policy["transports"]["docker"][scope] = rules
    (directory / "policy.json").write_text(json.dumps(policy))
    locations = yaml.safe_load((TRUST / "registries.d" / "salam.yaml").read_text())
    entry = locations["docker"].pop(PROD_SCOPE)
    assert set(entry) == {"lookaside", "lookaside-staging"}
    signatures = f"file://{directory / 'signatures'}"
    locations["docker"][scope] = {"lookaside": signatures, "lookaside-staging": signatures}
    (directory / "registries.d").mkdir()
    (directory / "registries.d" / "salam.yaml").write_text(yaml.safe_dump(locations))
    return directory / "policy.json", sign.Registry(directory / "registries.d", tls_verify=False)


def publish(
    built: Built, destination: str, access: sign.Registry, key: Key | None,
    monkeypatch: pytest.MonkeyPatch,
) -> str:  # fmt: skip
    if key:
        monkeypatch.setenv("GNUPGHOME", str(key.home))
    fingerprint = key.fingerprint if key else None
    return sign.publish(built.layout, built.record["tag"], destination, access, fingerprint)


def test_the_signed_image_is_accepted_and_keeps_its_digest(
    built: Built, registry: LocalRegistry, keys: dict[str, Key],
    trust: tuple[Path, sign.Registry], monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    policy, access = trust
    repository = f"{registry.address}/salam/ingest"
    digest = publish(built, repository, access, keys["release"], monkeypatch)
    assert digest == built.record["digest"]  # the registry holds the very image built
    pulled = sign.verify(f"{repository}@{digest}", policy, access)
    assert pulled.returncode == 0, pulled.stderr


@pytest.mark.parametrize(
    ("repository", "signer", "why"),
    [
        ("salam/unsigned", None, "A signature was required, but no signature exists"),
        ("salam/forged", "intruder", "Invalid GPG signature"),
    ],
)
def test_an_unsigned_or_forged_image_is_refused(
    built: Built, registry: LocalRegistry, keys: dict[str, Key],
    trust: tuple[Path, sign.Registry], monkeypatch: pytest.MonkeyPatch,
    repository: str, signer: str | None, why: str,
) -> None:  # fmt: skip
    policy, access = trust
    destination = f"{registry.address}/{repository}"
    digest = publish(built, destination, access, keys[signer] if signer else None, monkeypatch)
    refused = sign.verify(f"{destination}@{digest}", policy, access)
    assert refused.returncode != 0
    assert "Source image rejected" in refused.stderr
    assert why.lower() in refused.stderr.lower()


def test_a_tampered_signature_is_refused(
    built: Built, registry: LocalRegistry, keys: dict[str, Key],
    trust: tuple[Path, sign.Registry], monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    policy, access = trust
    destination = f"{registry.address}/salam/tampered"
    digest = publish(built, destination, access, keys["release"], monkeypatch)
    signatures = sorted((policy.parent / "signatures" / "salam").glob("tampered@*/signature-*"))
    assert signatures
    for path in signatures:
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0xFF
        path.write_bytes(bytes(data))
    refused = sign.verify(f"{destination}@{digest}", policy, access)
    assert refused.returncode != 0
    assert "Source image rejected" in refused.stderr


def test_prod_pins_the_signed_digest_that_came_through_uat(
    built: Built, store: Store, tmp_path: Path, registry: LocalRegistry,
    keys: dict[str, Key], trust: tuple[Path, sign.Registry], monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """Build -> uat (pinned, applied) -> prod (promoted), then prod's pin pulled under policy."""
    root = tmp_path / "repo"
    for name in ("environments/uat", "environments/prod", "manifests", "policies"):
        shutil.copytree(ROOT / name, root / name)
    (root / ".gitignore").write_text(".salam/\n")
    git(root, "init", "-q", "-b", "main")
    commit(root, "initial")

    def reconcile(*args: str) -> str:
        result = run_reconcile(*args, "--root", str(root))
        assert result.exit_code == 0, result.output
        return result.output

    reconcile("promote", "--image", str(built.dist / "image.json"), "--to", "uat")
    commit(root, "uat: the new build")
    reconcile("--env", "uat", "--yes", "--lock-timeout", "5")
    reconcile("promote", "--from", "uat", "--to", "prod")
    digest = built.record["digest"]
    images = {
        c["image"]
        for doc in kustomize.build(root / "manifests/overlays/prod")
        for c in kustomize.containers(doc)
    }
    assert images == {f"registry.prod.example.com/salam/ingest@{digest}"}
    record = json.loads((root / "manifests/releases/prod.json").read_text())
    assert record["promoted_from"]["image"].endswith(f"@{digest}")
    policy, access = trust
    repository = f"{registry.address}/salam/ingest"
    publish(built, repository, access, keys["release"], monkeypatch)
    pulled = sign.verify(f"{repository}@{digest}", policy, access)
    assert pulled.returncode == 0, pulled.stderr
