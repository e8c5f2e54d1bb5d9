"""``reconcile promote --from uat --to prod``: carry what the source environment ran into the
target's files, as one change in the working tree, or refuse.

:func:`prepare` computes the change and writes nothing; :func:`write` writes it (every file
staged first, then renamed: :func:`reconciler.atomicfile.write_all`). Refused
(:class:`Refused`) when the source has no release record (:mod:`reconciler.release`), when it
was applied from uncommitted files, when the source's image pins, plans or committed rendered
plans are no longer what the record says ran (git moved on since), or when a job cannot be
carried (:mod:`reconciler.promotion.bindings`). The change: the target's image digest
(environment.yaml and overlay), its job files (the source's definitions, the target's
bindings), its re-rendered plans, and the promotion record ``manifests/releases/<to>.json``.
The target's policies decide on the promoted plans (denied: exit 3, nothing written).

:func:`prepare_build` is the first hop, a build into an environment (``reconcile promote
--image dist/image.json --to dev``): the image record ``scripts/build.sh`` wrote names the
digest; the change pins it, re-renders the plans and leaves the record (``built``, not
``promoted_from``). Nothing else moves: a build carries no jobs.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingestion.config import loader
from ingestion.plan import canonical
from ingestion.plan import environment as plans_of
from reconciler import atomicfile, engine, policy, release, rendered
from reconciler.promotion import bindings, image

RECORDS_DIR = Path("manifests") / "releases"


class Refused(Exception):
    """The promotion is refused; nothing was written. Carries a hint for the person."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.hint = hint


@dataclass(frozen=True)
class FileChange:
    """One file of the change, relative to the project root; ``after`` None deletes it."""

    path: Path
    before: str | None
    after: str | None


@dataclass(frozen=True)
class Promotion:
    """The change a promotion makes, and the record it leaves."""

    source: str
    target: str
    origin: str  # what is promoted, for a person: "what uat ran at revision … (…)"
    digests: tuple[str, str]  # the target's image digest before, after
    files: tuple[FileChange, ...]
    record: Mapping[str, Any]

    @property
    def changed(self) -> list[FileChange]:
        return [f for f in self.files if f.before != f.after]


def default_release(root: Path, env: str) -> Path:
    """Where an apply on this machine left the environment's release record."""
    return engine.state_dir(loader.load_environment(root, env)) / release.FILENAME


def prepare(root: Path, source: str, target: str, record_path: Path) -> Promotion:
    """The promotion of what ``source`` ran (``record_path``) into ``target``; refuses."""
    ran = _ran(source, record_path)
    digest = _check_unchanged(root, source, ran)
    origin = (
        f"what {source} ran at revision {(ran.revision or '-')[:12]} "
        f"({ran.time}, {len(ran.plans)} plan(s))"
    )
    provenance = {"promoted_from": ran.to_json() | {"environment": source}}
    jobs = _carried_jobs(root, source, target)
    return _pinned(root, (source, target, origin), digest, jobs, provenance)


def prepare_build(root: Path, target: str, image_record: Path) -> Promotion:
    """Pin the image ``image_record`` (``dist/image.json``) describes into ``target``."""
    built = _built(image_record)
    origin = f"the build of revision {built['revision'][:12]} ({built['reference']})"
    provenance = {"built": {k: built[k] for k in ("reference", "digest", "revision", "version")}}
    return _pinned(root, ("build", target, origin), built["digest"], {}, provenance)


def _pinned(
    root: Path,
    route: tuple[str, str, str],
    digest: str,
    jobs: Mapping[Path, str],
    provenance: Mapping[str, Any],
) -> Promotion:
    """The change pinning ``digest`` (and the carried ``jobs``) into the target of ``route``
    (source, target, origin), with its plans re-rendered and its record."""
    source, target, origin = route
    env_path = root / loader.ENVIRONMENTS_DIR / target / "environment.yaml"
    env_before = env_path.read_text(encoding="utf-8")
    pins = _pins(root, target, env_before)
    texts = {env_path: image.pin_environment(env_before, pins.name, digest)}
    texts[image.overlay_path(root, target)] = image.pin_overlay(root, target, digest)
    texts.update(jobs)
    plans, extra = _render(root, target, texts)
    texts.update(plans)
    record = _record(target, f"{pins.name}@{digest}", provenance, plans)
    texts[root / RECORDS_DIR / f"{target}.json"] = canonical.dumps(record)
    files = [FileChange(p.relative_to(root), _text(p), t) for p, t in sorted(texts.items())]
    files += [FileChange(p.relative_to(root), _text(p), None) for p in extra]
    return Promotion(source, target, origin, (pins.digest, digest), tuple(files), record)


def _built(path: Path) -> dict[str, str]:
    """The image record of a build; refuses one that is missing or names no digest."""
    try:
        built = json.loads(path.read_text(encoding="utf-8"))
        fields = {k: str(built[k]) for k in ("reference", "digest", "revision", "version")}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise Refused(
            f"{path} is not an image record: {exc}",
            "build the image first (bash scripts/build.sh writes dist/image.json)",
        ) from exc
    if not image.DIGEST.fullmatch(fields["digest"]):
        raise Refused(f"{path} names no image digest (sha256:<64 hex>)", "build the image again")
    return fields


def write(root: Path, promotion: Promotion) -> None:
    """Write the change: all new texts staged, then renamed; then the deleted plans go."""
    atomicfile.write_all(
        {root / f.path: f.after.encode() for f in promotion.changed if f.after is not None}
    )
    for change in promotion.changed:
        if change.after is None:
            (root / change.path).unlink()


def _ran(source: str, record_path: Path) -> release.Release:
    ran = release.read(record_path)
    if ran is None:
        raise Refused(
            f"'{source}' has no release record ({record_path}): nothing shows it ran what "
            "would be promoted",
            f"apply {source} first (reconcile --env {source} --yes), or pass --release FILE "
            f"(the record {source}'s apply kept)",
        )
    if ran.environment != source:
        raise Refused(f"{record_path} is {ran.environment}'s release, not {source}'s", "")
    if ran.dirty:
        raise Refused(
            f"{source} was applied from uncommitted files (revision {ran.revision})",
            f"commit, apply {source} again, then promote",
        )
    return ran


def _check_unchanged(root: Path, source: str, ran: release.Release) -> str:
    """The digest that ran; refuses when the source's files are no longer what ran."""
    text = (root / loader.ENVIRONMENTS_DIR / source / "environment.yaml").read_text()
    pins = _pins(root, source, text)
    ran_digest = image.split(ran.image)[1] if ran.image else None
    if pins.digest != ran_digest:
        raise _moved_on(source, ran, f"its image pin is {pins.digest}, it ran {ran_digest}")
    environment = loader.load_environment(root, source)
    now = plans_of.render_all(environment, with_git=False)
    digests = {job: str(plan["bookkeeping"]["digest"]) for job, plan in now.items()}
    jobs = digests.keys() | ran.plans.keys()
    moved = sorted(job for job in jobs if digests.get(job) != ran.plans.get(job))
    if moved:
        raise _moved_on(source, ran, f"the plans of {', '.join(moved)} are not the ones that ran")
    expected = rendered.expected_files(root, source, now)
    if any(rendered.stale_files(rendered.directory(root, source), expected).values()):
        raise Refused(
            f"{source}'s committed rendered plans are stale",
            f"run `reconcile render --env {source}` and commit",
        )
    return pins.digest


def _moved_on(source: str, ran: release.Release, what: str) -> Refused:
    revision = (ran.revision or "an unknown revision")[:12]
    return Refused(
        f"{source} changed since it ran (revision {revision}): {what}",
        f"apply {source} at this revision first (reconcile --env {source} --yes), then promote",
    )


def _pins(root: Path, env: str, text: str) -> image.Pins:
    try:
        return image.pins(root, env, text)
    except image.ImageError as exc:
        raise Refused(str(exc), "pin the image by digest in both places") from exc


def _carried_jobs(root: Path, source: str, target: str) -> dict[Path, str]:
    """Target job file → its new text; the two environments must have the same job files."""
    mine, theirs = _job_files(root, source), _job_files(root, target)
    if set(mine) != set(theirs):
        only = sorted(set(mine) ^ set(theirs))
        raise Refused(
            f"{source} and {target} do not have the same job files: {', '.join(only)}",
            f"add the job to {target} with its own bindings, or remove it, in its own change",
        )
    carried = {}
    for name, path in theirs.items():
        shown = path.relative_to(root).as_posix()
        try:
            carried[path] = bindings.carry(source, mine[name].read_text(), path.read_text(), shown)
        except bindings.BindingError as exc:
            raise Refused(str(exc), exc.hint) from exc
    return carried


def _job_files(root: Path, env: str) -> dict[str, Path]:
    directory = root / loader.ENVIRONMENTS_DIR / env / "jobs"
    return {
        p.name: p
        for p in sorted(directory.iterdir())
        if p.suffix in loader.JOB_SUFFIXES and p.is_file()
    }


def _render(
    root: Path, target: str, texts: Mapping[Path, str]
) -> tuple[dict[Path, str], list[Path]]:
    """The target's plan files as the new texts render them (its policies deciding), and the
    plan files no job renders any more."""
    environment = _staged(root, target, texts)
    plans = plans_of.render_all(environment, with_git=False)
    policy.decide(environment, plans)
    expected = rendered.expected_files(root, target, plans)
    directory = rendered.directory(root, target)
    extra = rendered.stale_files(directory, expected)["extra"]
    return expected, [directory / name for name in extra]


def _staged(root: Path, target: str, texts: Mapping[Path, str]) -> loader.Environment:
    """The target environment loaded from its new texts (in a temporary copy), at ``root``."""
    directory = root / loader.ENVIRONMENTS_DIR / target
    with tempfile.TemporaryDirectory(prefix="salam-promote-") as tmp:
        staged = Path(tmp) / loader.ENVIRONMENTS_DIR / target
        shutil.copytree(directory, staged)
        for path, text in texts.items():
            if path.is_relative_to(directory):
                (staged / path.relative_to(directory)).write_text(text, encoding="utf-8")
        environment = loader.load_environment(Path(tmp), target)
    return dataclasses.replace(environment, root=root)


def _record(
    target: str, reference: str, provenance: Mapping[str, Any], plans: Mapping[Path, str]
) -> dict[str, Any]:
    """The committed promotion record: where the image came from (what ran where, or which
    build), and what the target now carries."""
    return {
        "environment": target,
        "image": reference,
        **provenance,
        "plans": {p.stem: json.loads(t)["bookkeeping"]["digest"] for p, t in plans.items()},
        "format": release.FORMAT,
    }


def _text(path: Path) -> str | None:
    return path.read_text(encoding="utf-8") if path.exists() else None
