"""The committed rendered plans, ``manifests/rendered/<env>/<job>.json``: what their bytes should
be, which files are stale, and writing them.

Used by ``reconcile render`` (write or ``--check``) and ``reconcile promote`` (the target
environment's plans re-rendered in the same change). The committed files omit the git fields:
the commit they sit in is their revision.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ingestion.plan import canonical

RENDERED_DIR = Path("manifests") / "rendered"


def directory(root: Path, env: str) -> Path:
    return root / RENDERED_DIR / env


def expected_files(
    environment_root: Path, env: str, rendered: Mapping[str, Mapping[str, Any]]
) -> dict[Path, str]:
    """Path → text of every plan file the environment's plans give."""
    return {
        directory(environment_root, env) / f"{job}.json": canonical.dumps(
            canonical.without_git(plan)
        )
        for job, plan in rendered.items()
    }


def stale_files(directory: Path, expected: dict[Path, str]) -> dict[str, list[str]]:
    """Files that differ from what rendering gives now: changed, missing and extra."""
    present = set(directory.glob("*.json")) if directory.is_dir() else set()
    changed = [p for p in expected if p in present and p.read_text(encoding="utf-8") != expected[p]]
    return {
        "changed": sorted(p.name for p in changed),
        "missing": sorted(p.name for p in expected if p not in present),
        "extra": sorted(p.name for p in present - set(expected)),
    }


def write(directory: Path, expected: dict[Path, str], extra: list[str]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for path, text in expected.items():
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            temporary = path.with_suffix(".json.tmp")
            temporary.write_text(text, encoding="utf-8")
            temporary.replace(path)
    for name in extra:
        (directory / name).unlink()
