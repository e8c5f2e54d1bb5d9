"""Where the policies live on disk and the per-environment data they read as ``data.params``.

The Rego engine (:mod:`reconciler.policy.rego`) asks here for the modules to compile and the
test runner (:mod:`reconciler.policy.testing`) for the test files; both get their params from
:func:`load_params`: ``policies/data/default.*`` deep-merged with ``policies/data/<env>.*``
(:func:`ingestion.config.merge.deep_merge`: mappings merge, everything else replaces). Nothing
is cached here. Fails with :class:`PolicyError`, the package's one error, when a data file
cannot be read or is not a mapping.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from ingestion.config.merge import deep_merge

POLICY_DIR = "policies"
DATA_SUFFIXES = (".yaml", ".yml", ".json")


class PolicyError(Exception):
    """The policies cannot be loaded or evaluated: a broken file, bad data, an engine error.

    An engine failure, not a policy decision: commands end with exit 1 and ``message`` (which
    names the policy file, and the rule when it is known) and ``hint``.
    """

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint or "fix the policy file named above"


def policy_dir(root: Path) -> Path:
    return root / POLICY_DIR


def policy_files(directory: Path) -> list[Path]:
    """Every policy module: ``*.rego`` under ``directory``, tests excluded."""
    return sorted(
        p for p in directory.rglob("*.rego") if "tests" not in p.relative_to(directory).parts
    )


def rego_test_files(directory: Path) -> list[Path]:
    return sorted((directory / "tests").rglob("*.rego"))


def display_name(path: Path, directory: Path) -> str:
    """How messages name a policy file: ``policies/job/owner.rego``."""
    return f"{POLICY_DIR}/{path.relative_to(directory).as_posix()}"


def load_params(directory: Path, env: str) -> dict[str, Any]:
    """``data/default.*`` deep-merged with ``data/<env>.*`` (mappings merge, others replace)."""
    params: dict[str, Any] = {}
    for name in ("default", env):
        path = data_file(directory, name)
        if path is not None:
            params = deep_merge(params, read_data(path))
    return params


def read_data(path: Path) -> dict[str, Any]:
    """A YAML (or JSON) mapping: policy data or a fixture case."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise PolicyError(f"policy data {path}: cannot read: {first_line(str(exc))}") from None
    if not isinstance(data, dict):
        raise PolicyError(f"policy data {path}: must be a mapping")
    return data


def first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), text)


def data_file(directory: Path, name: str) -> Path | None:
    """``data/<name>.yaml`` (or ``.yml``, ``.json``) under the policy directory, if any."""
    candidates = (directory / "data" / f"{name}{suffix}" for suffix in DATA_SUFFIXES)
    return next((path for path in candidates if path.is_file()), None)
