"""``reconcile promote --from uat --to prod`` in a git copy of the project whose uat is applied
on the in-memory backend: refused without a release record and after uat moved on; otherwise
exactly prod's image pins, job files, plans and promotion record change, and prod still
renders and validates; ``--dry-run`` writes nothing."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from reconciler.backends.memory import Store
from tests.conftest import ROOT, run_reconcile
from tests.reconciler.engine import conftest as memory_fixtures
from tests.reconciler.gitops.conftest import commit, git

store = memory_fixtures.store
COPIED = ["environments/uat", "environments/prod", "manifests", "policies"]
NEW_DIGEST = "sha256:" + "0123456789abcdef" * 4


@pytest.fixture
def root(tmp_path: Path, store: Store) -> Path:
    """A git repository with uat, prod, the manifests and the policies, committed once."""
    for name in COPIED:
        shutil.copytree(ROOT / name, tmp_path / name)
    (tmp_path / ".gitignore").write_text(".salam/\n")
    git(tmp_path, "init", "-q", "-b", "main")
    commit(tmp_path, "initial")
    return tmp_path


def reconcile(root: Path, *args: str):  # type: ignore[no-untyped-def]
    return run_reconcile(*args, "--root", str(root))


def promote(root: Path, *args: str):  # type: ignore[no-untyped-def]
    return reconcile(root, "promote", "--from", "uat", "--to", "prod", *args)


def changed_files(root: Path) -> list[str]:
    changed = git(root, "diff", "--name-only", "HEAD").splitlines()
    return sorted([*changed, *git(root, "ls-files", "--others", "--exclude-standard").split()])


def new_uat(root: Path) -> None:
    """uat gets a new image digest and a changed invoices schedule, rendered and committed."""
    for path in (root / "environments/uat/environment.yaml",
                 root / "manifests/overlays/uat/kustomization.yaml"):  # fmt: skip
        text = path.read_text()
        old = text.split("sha256:")[1][:64]
        path.write_text(text.replace(f"sha256:{old}", NEW_DIGEST))
    job = root / "environments/uat/jobs/invoices.yaml"
    assert '"0 2 * * *"' in job.read_text()
    job.write_text(job.read_text().replace('"0 2 * * *"', '"0 4 * * *"'))
    assert reconcile(root, "render", "--env", "uat").exit_code == 0
    commit(root, "uat: new image and invoices at 04:00")


def apply_uat(root: Path) -> None:
    applied = reconcile(root, "--env", "uat", "--yes", "--lock-timeout", "5")
    assert applied.exit_code == 0, applied.output


def test_refused_when_uat_has_no_release_record(root: Path) -> None:
    result = promote(root)
    assert result.exit_code == 1
    assert "'uat' has no release record" in result.output
    assert "apply uat first (reconcile --env uat --yes)" in result.output
    assert changed_files(root) == []


def test_refused_when_uat_changed_since_it_ran(root: Path) -> None:
    apply_uat(root)
    edited = root / "environments/uat/jobs/invoices.yaml"
    edited.write_text(edited.read_text().replace('"0 2 * * *"', '"0 5 * * *"'))
    assert reconcile(root, "render", "--env", "uat").exit_code == 0
    revision = commit(root, "uat moves on without an apply")
    before = changed_files(root)
    result = promote(root)
    assert result.exit_code == 1, result.output
    assert "uat changed since it ran" in result.output
    assert "the plans of invoices are not the ones that ran" in result.output
    assert revision[:12] not in result.output  # it names the revision that ran, not HEAD
    assert changed_files(root) == before


def test_promote_changes_exactly_prod_and_prod_stays_valid(root: Path) -> None:
    new_uat(root)
    apply_uat(root)
    ran = json.loads((root / ".salam/state/uat/release.json").read_text())
    result = promote(root)
    assert result.exit_code == 0, result.output
    assert changed_files(root) == [
        "environments/prod/environment.yaml",
        "environments/prod/jobs/invoices.yaml",
        "manifests/overlays/prod/kustomization.yaml",
        "manifests/releases/prod.json",
        "manifests/rendered/prod/invoices.json",
        "manifests/rendered/prod/network_events.json",
    ]
    assert f"image: {NEW_DIGEST} (was sha256:" in result.output
    assert "Wrote 6 file(s)" in result.output
    prod_env = (root / "environments/prod/environment.yaml").read_text()
    assert f"image: registry.prod.example.com/salam/ingest@{NEW_DIGEST}\n" in prod_env
    overlay = (root / "manifests/overlays/prod/kustomization.yaml").read_text()
    assert f"    digest: {NEW_DIGEST}\n" in overlay
    assert "newName: registry.prod.example.com/salam/ingest" in overlay
    diff = git(root, "diff", "--unified=0", "environments/prod/jobs/invoices.yaml")
    lines = diff.splitlines()
    edits = [line for line in lines if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    assert edits == ['-      expression: "0 2 * * *"', '+      expression: "0 4 * * *"']
    record = json.loads((root / "manifests/releases/prod.json").read_text())
    assert record["promoted_from"]["revision"] == ran["revision"]
    assert record["promoted_from"]["plans"] == ran["plans"]
    assert record["image"] == f"registry.prod.example.com/salam/ingest@{NEW_DIGEST}"
    assert reconcile(root, "render", "--env", "prod", "--check").exit_code == 0
    validated = reconcile(root, "validate", "--env", "prod")
    assert validated.exit_code == 0, validated.output


def test_dry_run_writes_nothing_and_shows_the_same(root: Path) -> None:
    new_uat(root)
    apply_uat(root)
    result = promote(root, "--dry-run", "--output", "json")
    assert result.exit_code == 0, result.output
    assert changed_files(root) == []
    document = json.loads(result.stdout)
    assert document["dry_run"] is True
    assert {c["path"]: c["action"] for c in document["changed"]} == {
        "environments/prod/environment.yaml": "update",
        "environments/prod/jobs/invoices.yaml": "update",
        "manifests/overlays/prod/kustomization.yaml": "update",
        "manifests/releases/prod.json": "create",
        "manifests/rendered/prod/invoices.json": "update",
        "manifests/rendered/prod/network_events.json": "update",
    }
    assert document["digest"]["after"] == NEW_DIGEST


def test_a_uat_value_outside_the_bindings_is_refused(root: Path) -> None:
    job = root / "environments/uat/jobs/payments.yaml"
    job.write_text(job.read_text().replace("description: ", "description: uat copy of ", 1))
    assert reconcile(root, "render", "--env", "uat").exit_code == 0
    commit(root, "uat: a description naming uat")
    apply_uat(root)
    result = promote(root)
    assert result.exit_code == 1
    assert "environments/prod/jobs/payments.yaml: description would still name 'uat'" in (
        result.output
    )
    assert changed_files(root) == []


def test_a_tag_only_image_is_refused_by_validate(root: Path) -> None:
    result = reconcile(
        root, "validate", "--env", "prod",
        "--set", "kubernetes.image=registry.prod.example.com/salam/ingest:0.1.0",
    )  # fmt: skip
    assert result.exit_code == 3
    assert "$.kubernetes.image" in result.output
    assert "Give the image by digest, NAME@sha256:<64 hex>" in result.output


def image_record(root: Path, digest: str = NEW_DIGEST) -> Path:
    """An image record as scripts/build.sh writes it (dist/image.json)."""
    path = root / "dist" / "image.json"
    path.parent.mkdir()
    record = {"reference": "salam/ingest:0.1.0-gabc", "digest": digest, "revision": "abc" * 13,
              "version": "0.1.0", "tag": "0.1.0-gabc", "layers": []}  # fmt: skip
    path.write_text(json.dumps(record))
    return path


def test_a_build_is_pinned_into_uat_with_its_record(root: Path) -> None:
    built = image_record(root)
    result = reconcile(root, "promote", "--image", str(built), "--to", "uat")
    assert result.exit_code == 0, result.output
    assert "Promoting build -> uat: the build of revision abcabcabcabc" in result.output
    assert changed_files(root) == [
        "dist/image.json",  # the test's record, not part of the change
        "environments/uat/environment.yaml",
        "manifests/overlays/uat/kustomization.yaml",
        "manifests/releases/uat.json",
        "manifests/rendered/uat/network_events.json",
    ]
    record = json.loads((root / "manifests/releases/uat.json").read_text())
    assert record["built"]["digest"] == NEW_DIGEST
    assert record["image"] == f"registry.uat.example.com/salam/ingest@{NEW_DIGEST}"
    assert "promoted_from" not in record
    assert reconcile(root, "render", "--env", "uat", "--check").exit_code == 0


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--to", "uat"], "say what to promote: --from ENV"),
        (["--from", "uat", "--image", "dist/image.json", "--to", "prod"], "say what to promote"),
        (["--image", "missing.json", "--to", "uat"], "missing.json is not an image record"),
    ],
)
def test_what_to_promote_must_be_one_build_or_one_environment(
    root: Path, args: list[str], expected: str
) -> None:
    result = reconcile(root, "promote", *args)
    assert result.exit_code in (1, 2)
    assert expected in result.output
    assert changed_files(root) == []


def test_a_record_without_a_digest_is_refused(root: Path) -> None:
    built = image_record(root, digest="latest")
    result = reconcile(root, "promote", "--image", str(built), "--to", "uat")
    assert result.exit_code == 1
    assert "names no image digest" in result.output
    assert changed_files(root) == ["dist/image.json"]
