"""The Rego engine: regopy (rego-cpp) wrapped as a :class:`Bundle` of compiled policies.

A :class:`Bundle` is one environment's policies (``policies/**/*.rego``, tests excluded unless
asked for) compiled together with its ``data.params``; :func:`compiled` builds it once per
process and environment for :mod:`reconciler.policy.evaluation`, and the test runner
(:mod:`reconciler.policy.testing`) builds its own. rego-cpp quirks handled here: a failed
query's output must never be printed (it crashes), and parse errors are written to the
process's stdout, so that is captured and turned into a :class:`PolicyError` naming the file.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from regopy import Input, Interpreter

from reconciler.policy.files import (
    PolicyError,
    display_name,
    first_line,
    load_params,
    policy_dir,
    policy_files,
    rego_test_files,
)

JOB_ENTRYPOINT = "salam/job"
ENVIRONMENT_ENTRYPOINT = "salam/environment"

T = TypeVar("T")


class Bundle:
    """Compiled policies plus one environment's data; evaluates inputs."""

    def __init__(self, directory: Path, params: Mapping[str, Any], tests: bool = False) -> None:
        self.directory = directory
        self.interpreter = Interpreter()
        modules = policy_files(directory) + (rego_test_files(directory) if tests else [])
        for path in modules:
            add_module(self.interpreter, path, display_name(path, directory))
        self.interpreter.add_data({"params": plain(params)})
        self._built = self._build()

    def _build(self) -> Any:
        built, printed, error = _with_captured_stdout(
            lambda: self.interpreter.build(None, [JOB_ENTRYPOINT, ENVIRONMENT_ENTRYPOINT])
        )
        if error is not None or built is None or not built.ok():
            detail = _parse_error(printed, error) if error else "bundle build failed"
            raise PolicyError(f"policies in {self.directory}: {detail}")
        return built

    def query(self, entrypoint: str, document: Mapping[str, Any]) -> Any:
        """Evaluate ``entrypoint`` against ``document``; the packages' values, or None."""
        self.interpreter.set_input(Input(plain(document)))
        output = self.interpreter.query_bundle_entrypoint(self._built, entrypoint)
        return _value(self.interpreter, output, entrypoint)

    def query_rule(self, ref: str) -> Any:
        """Evaluate a plain query (``data.pkg.rule``); raises PolicyError on engine errors."""
        output = self.interpreter.query(ref)
        return _value(self.interpreter, output, ref)


def add_module(interpreter: Interpreter, path: Path, display: str) -> None:
    """Add one Rego file; a syntax error becomes a PolicyError naming the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError(f"policy file {display}: cannot read: {exc.strerror}") from None
    _, printed, error = _with_captured_stdout(lambda: interpreter.add_module(display, text))
    if error is not None:
        raise PolicyError(f"policy file {display}: {_parse_error(printed, error)}")


def plain(value: Any) -> Any:
    """A JSON-only copy (mappings, tuples, dates, paths become JSON types)."""
    return json.loads(json.dumps(value, default=str))


# --- The compiled-bundle cache ---------------------------------------------------------------

_BUNDLES: dict[tuple[str, str], Bundle] = {}


def compiled(root: Path, env: str) -> Bundle:
    """The compiled policies for ``env``, built once per process."""
    directory = policy_dir(root).resolve()
    key = (str(directory), env)
    if key not in _BUNDLES:
        _BUNDLES[key] = Bundle(directory, load_params(directory, env))
    return _BUNDLES[key]


def clear_cache() -> None:
    _BUNDLES.clear()


# --- rego-cpp's error reporting --------------------------------------------------------------


def _with_captured_stdout(action: Callable[[], T]) -> tuple[T | None, str, Exception | None]:
    """Run ``action`` with fd 1 redirected (rego-cpp prints parse errors there)."""
    with tempfile.TemporaryFile(mode="w+b") as sink:
        saved = os.dup(1)
        os.dup2(sink.fileno(), 1)
        try:
            result, error = _attempt(action)
        finally:
            os.dup2(saved, 1)
            os.close(saved)
        sink.seek(0)
        printed = sink.read().decode("utf-8", "replace")
    return result, printed, error


def _attempt(action: Callable[[], T]) -> tuple[T | None, Exception | None]:
    try:
        return action(), None
    except Exception as exc:
        return None, exc


def _parse_error(printed: str, error: Exception) -> str:
    """The useful part of rego-cpp's report: the message and the ``-- file:line:col`` line."""
    lines = [line.strip() for line in printed.splitlines() if line.strip()]
    if lines and lines[0] == "Errors:":
        detail = [line for line in lines[1:4] if not set(line) <= {"~", "-"}]
        if detail:
            return " ".join(detail)
    match = re.search(r"errormsg \d+:([^)]*)\)", str(error))
    return match.group(1) if match else first_line(str(error))


def _value(interpreter: Interpreter, output: Any, what: str) -> Any:
    if not output.ok():  # never str() a failed output: rego-cpp crashes
        raise PolicyError(f"policy evaluation of {what} failed: {_engine_error(interpreter)}")
    if not output.results or not output.results[0].expressions:
        return None
    return output.results[0].expressions[0]


def _engine_error(interpreter: Interpreter) -> str:
    try:
        from regopy.rego_shared import rego_get_error

        return first_line(rego_get_error(interpreter._impl))
    except Exception:
        return "unknown rego error"
