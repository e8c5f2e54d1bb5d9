"""The Rego engine: regopy (rego-cpp) wrapped as a :class:`Bundle` of compiled policies.

A :class:`Bundle` is one environment's policies (``policies/**/*.rego``, tests excluded unless
asked for) compiled together with its ``data.params``; :func:`borrowed` lends
:mod:`reconciler.policy.evaluation` as many as it evaluates with at once (an interpreter holds
one input at a time, so each is used by one thread; rego-cpp runs without the GIL, so threads
evaluate in parallel), built when first needed and kept for the process; the test runner
(:mod:`reconciler.policy.testing`) builds its own. rego-cpp quirks handled here: a failed
query's output must never be printed (it crashes); parse errors are written to the process's
stdout, so that is captured and turned into a :class:`PolicyError` naming the file; inputs are
passed as JSON text (``Input(dict)`` keeps strings unescaped, so a value holding a quote or a
backslash comes back as invalid JSON). Every engine failure of an evaluation — an error, or a
result that is not valid JSON (rego-cpp's ``sprintf`` quotes strings computed by builtins) — is
a :class:`PolicyError` naming the package, the rule (and the rule id when it can tell) and the
policy file, found by re-querying the packages one rule at a time (:func:`culprit`).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from reconciler.policy.files import (
    PolicyError,
    display_name,
    first_line,
    load_params,
    policy_dir,
    policy_files,
    rego_test_files,
)

if TYPE_CHECKING:
    from regopy import Interpreter

JOB_ENTRYPOINT = "salam/job"
ENVIRONMENT_ENTRYPOINT = "salam/environment"

FIX_HINT = "fix the policy named above; `reconcile policy test` runs the policies' own tests"
NOT_JSON_HINT = (
    "rego-cpp wrote a string unescaped (its sprintf writes strings made by builtins such as "
    "replace or concat with their quotes): build messages with concat, format only numbers "
    "with sprintf"
)
_PACKAGE = re.compile(r"^package\s+([\w.]+)", re.MULTILINE)

T = TypeVar("T")


class Bundle:
    """Compiled policies plus one environment's data; evaluates inputs."""

    def __init__(self, directory: Path, params: Mapping[str, Any], tests: bool = False) -> None:
        self.directory = directory
        self.interpreter = new_interpreter()
        self.packages: dict[str, list[str]] = {}  # package → the files declaring it
        modules = policy_files(directory) + (rego_test_files(directory) if tests else [])
        for path in modules:
            display = display_name(path, directory)
            package = add_module(self.interpreter, path, display)
            self.packages.setdefault(package, []).append(display)
        self.params: dict[str, Any] = plain(params)
        self.interpreter.add_data({"params": self.params})
        self._built = self._build()

    def _build(self) -> Any:
        built, printed, error = _with_captured_stdout(
            lambda: self.interpreter.build(None, [JOB_ENTRYPOINT, ENVIRONMENT_ENTRYPOINT])
        )
        if error is not None or built is None or not built.ok():
            detail = _parse_error(printed, error) if error else "bundle build failed"
            raise PolicyError(f"policies in {self.directory}: {detail}")
        return built

    def query(self, entrypoint: str, document: Mapping[str, Any], subject: str = "") -> Any:
        """Evaluate ``entrypoint`` against ``document``; the packages' values, or None.

        Raises :class:`PolicyError` naming the failing rule, its file and ``subject`` (what
        was evaluated, e.g. "job 'payments'") on any engine failure.
        """
        self.interpreter.set_input_term(input_json(document))
        try:
            output = self.interpreter.query_bundle_entrypoint(self._built, entrypoint)
        except Exception as exc:  # regopy parses rego-cpp's text: invalid JSON raises here
            problem, hint = _problem(exc)
        else:
            if output.ok():
                return _first(output)
            problem, hint = _failed(self.interpreter), FIX_HINT
        where = culprit(self, entrypoint.replace("/", "."))
        during = f" evaluating {subject}" if subject else ""
        raise PolicyError(f"policy engine failure in {where}{during}: {problem}", hint)

    def query_rule(self, ref: str) -> Any:
        """Evaluate a plain query (``data.pkg.rule``); raises PolicyError on engine errors."""
        try:
            output = self.interpreter.query(ref)
        except Exception as exc:
            problem, hint = _problem(exc)
            raise PolicyError(f"{ref}: {problem}", hint) from None
        if not output.ok():  # never str() a failed output: rego-cpp crashes
            raise PolicyError(f"{ref}: {_failed(self.interpreter)}", FIX_HINT)
        return _first(output)

    def fails(self, ref: str) -> bool:
        """True when evaluating ``ref`` errs or gives a result that is not valid JSON."""
        try:
            return not self.interpreter.query(ref).ok()
        except Exception:
            return True


def new_interpreter() -> Interpreter:
    """A rego-cpp interpreter; the engine failing to load is a :class:`PolicyError`.

    regopy loads its native library when first imported: a machine without a library it links
    (``libatomic.so.1`` on a minimal Debian) fails there, and the message says which.
    """
    try:
        from regopy import Interpreter
    except (ImportError, OSError) as exc:
        raise PolicyError(
            f"the Rego engine (regopy) cannot load: {exc}",
            "install the shared library it names (on Debian, libatomic.so.1 is in libatomic1)",
        ) from exc
    return Interpreter()


def add_module(interpreter: Interpreter, path: Path, display: str) -> str:
    """Add one Rego file and return its package; a syntax error is a PolicyError naming it."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError(f"policy file {display}: cannot read: {exc.strerror}") from None
    _, printed, error = _with_captured_stdout(lambda: interpreter.add_module(display, text))
    if error is not None:
        raise PolicyError(f"policy file {display}: {_parse_error(printed, error)}")
    package = _PACKAGE.search(text)
    return package.group(1) if package else ""


def input_json(document: Mapping[str, Any]) -> str:
    """The input as JSON text: rego-cpp keeps its strings escaped, as it keeps data's."""
    return json.dumps(document, default=str, sort_keys=True, separators=(",", ":"))


def plain(value: Any) -> Any:
    """A JSON-only copy (mappings, tuples, dates, paths become JSON types)."""
    return json.loads(json.dumps(value, default=str))


# --- Naming the rule that failed ---------------------------------------------------------

RULES = ("deny", "warn", "exception")


def culprit(bundle: Bundle, prefix: str) -> str:
    """The first rule (narrowed to a rule id when it can) of the packages under ``prefix``
    that fails on the current input, with its file: ``data.pkg.deny[SALAM-X] (policies/...)``."""
    for package in sorted(bundle.packages):
        if package != prefix and not package.startswith(f"{prefix}."):
            continue
        for rule in RULES:
            ref = f"data.{package}.{rule}"
            if bundle.fails(ref):
                return f"{_rule_name(bundle, ref)} ({', '.join(bundle.packages[package])})"
    return f"data.{prefix} (no single rule fails on its own)"


def _rule_name(bundle: Bundle, ref: str) -> str:
    """``data.pkg.deny``, narrowed to ``data.pkg.deny[SALAM-X]`` when one rule id fails."""
    try:
        ids = bundle.interpreter.query(f"[f.rule | some f in {ref}; is_string(f.rule)]")
        names = sorted(set(_first(ids) or [])) if ids.ok() else []
    except Exception:
        names = []
    for name in names:
        if bundle.fails(f"[f | some f in {ref}; f.rule == {json.dumps(name)}]"):
            return f"{ref}[{name}]"
    return ref


# --- The compiled bundles, lent one thread at a time -----------------------------------------

_IDLE: dict[tuple[str, str], list[Bundle]] = {}  # built, and lent to nobody now
_LENDING = threading.Lock()


@contextlib.contextmanager
def borrowed(root: Path, env: str, count: int = 1) -> Iterator[list[Bundle]]:
    """``count`` compiled bundles of ``env``'s policies, for this caller alone until it is done;
    the idle ones are reused, the others built (one at a time: a build captures fd 1)."""
    directory = policy_dir(root).resolve()
    key = (str(directory), env)
    with _LENDING:
        idle = _IDLE.setdefault(key, [])
        lent = [idle.pop() for _ in range(min(count, len(idle)))]
        if len(lent) < count:  # the policy data read once for all the bundles built
            params = load_params(directory, env)
            lent += [Bundle(directory, params) for _ in range(count - len(lent))]
    try:
        yield lent
    finally:
        with _LENDING:
            _IDLE.setdefault(key, []).extend(lent)


def clear_cache() -> None:
    with _LENDING:
        _IDLE.clear()


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


def _first(output: Any) -> Any:
    if not output.results or not output.results[0].expressions:
        return None
    return output.results[0].expressions[0]


def _problem(exc: Exception) -> tuple[str, str]:
    """What went wrong, and the hint, for an exception regopy raised on a query."""
    if isinstance(exc, ValueError):  # json.JSONDecodeError: rego-cpp emitted invalid JSON
        return "its result is not valid JSON", NOT_JSON_HINT
    return f"the engine raised {type(exc).__name__}: {first_line(str(exc))}", FIX_HINT


def _failed(interpreter: Interpreter) -> str:
    """'evaluation failed', with rego-cpp's error when it gives one."""
    try:
        from regopy.rego_shared import rego_get_error

        detail = first_line(rego_get_error(interpreter._impl) or "")
    except Exception:
        detail = ""
    return f"evaluation failed: {detail}" if detail else "evaluation failed"
