"""The ingestion image by digest, where an environment pins it: ``kubernetes.image`` in
environment.yaml (``NAME@sha256:<64 hex>``, the Kubernetes CronJob plans' image) and the
``salam/ingest`` entry of ``manifests/overlays/<env>/kustomization.yaml`` (kustomize's
``digest:``, the worker, controller and drift CronJob deployed from it).

A promotion moves the digest only; each environment keeps its own registry name (copying the
image between registries is ``skopeo copy`` in the pipeline). A pin that is a tag, or an
overlay and environment.yaml that disagree, raise :class:`ImageError`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from reconciler.promotion import yamledit

IMAGE = "salam/ingest"  # the image name the base manifests use
DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
OVERLAYS_DIR = Path("manifests") / "overlays"
ENVIRONMENT_IMAGE = ("kubernetes", "image")


class ImageError(Exception):
    """The image cannot be read or pinned by digest; the message says where and why."""


@dataclass(frozen=True)
class Pins:
    """One environment's image pins: environment.yaml's and the overlay's, by digest."""

    name: str  # environment.yaml's image name, without the digest
    digest: str
    overlay_digest: str


def overlay_path(root: Path, env: str) -> Path:
    return root / OVERLAYS_DIR / env / "kustomization.yaml"


def split(reference: str) -> tuple[str, str]:
    """``NAME@sha256:…`` as (NAME, digest); a tag-only reference raises."""
    name, _, digest = reference.partition("@")
    if not DIGEST.fullmatch(digest):
        raise ImageError(f"image '{reference}' is not given by digest (NAME@sha256:<64 hex>)")
    return name, digest


def pins(root: Path, env: str, environment_text: str) -> Pins:
    """The environment's pins; they must agree."""
    reference = (yaml.safe_load(environment_text).get("kubernetes") or {}).get("image")
    if not isinstance(reference, str):
        raise ImageError(f"environments/{env}/environment.yaml sets no kubernetes.image")
    name, digest = split(reference)
    overlay = _overlay_digest(root, env)
    if overlay != digest:
        raise ImageError(
            f"{env}'s overlay pins {overlay} but its environment.yaml pins {digest}: "
            "the two must name the same image"
        )
    return Pins(name, digest, overlay)


def pin_environment(text: str, name: str, digest: str) -> str:
    """environment.yaml's text with the image ``name@digest``."""
    return yamledit.replace(text, {ENVIRONMENT_IMAGE: f"{name}@{digest}"})


def pin_overlay(root: Path, env: str, digest: str) -> str:
    """The overlay's text with the image's digest set to ``digest``."""
    path = overlay_path(root, env)
    text = path.read_text(encoding="utf-8")
    entry = _entry(yaml.safe_load(text), path)
    return yamledit.replace(text, {("images", entry, "digest"): digest})


def _overlay_digest(root: Path, env: str) -> str:
    path = overlay_path(root, env)
    try:
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ImageError(f"cannot read {path}: {exc}") from exc
    digest = spec["images"][_entry(spec, path)].get("digest")
    if not isinstance(digest, str) or not DIGEST.fullmatch(digest):
        raise ImageError(f"{path} does not pin {IMAGE} by digest (digest: sha256:<64 hex>)")
    return digest


def _entry(spec: object, path: Path) -> int:
    images = spec.get("images") if isinstance(spec, dict) else None
    for index, entry in enumerate(images if isinstance(images, list) else []):
        if isinstance(entry, dict) and entry.get("name") == IMAGE:
            return index
    raise ImageError(f"{path} has no images entry for {IMAGE}")
