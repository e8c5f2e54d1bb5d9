"""Modules a command needs only when it runs, executed on first use.

``reconcile --help`` (and every command's ``--help``) needs typer, rich and the option types,
not jsonschema, regopy, the engine and the backends behind them. The command modules name those
with :func:`module` (importlib's ``LazyLoader``): the module object exists at once and its code
runs when one of its attributes is first read, so ``engine.prepare(...)`` inside a command body
imports the engine then. Each command module imports the same modules under ``TYPE_CHECKING``
too, so mypy and import-linter's layer contracts see them as before.
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType


def module(name: str) -> ModuleType:
    """The module ``name``: itself when already imported, else executed on first attribute use."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(name)
    spec.loader = importlib.util.LazyLoader(spec.loader)
    lazy = importlib.util.module_from_spec(spec)
    sys.modules[name] = lazy
    spec.loader.exec_module(lazy)
    parent, _, child = name.rpartition(".")
    if parent:
        setattr(sys.modules[parent], child, lazy)
    return lazy
