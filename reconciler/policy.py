"""Policies as code: Salam's Rego policies (``policies/``) evaluated with regopy (rego-cpp).

Conftest conventions: one package per topic under ``salam.job`` (evaluated once per job, input
``{"environment", "environment_settings", "job", "plan"}``) or ``salam.environment`` (evaluated
once per environment, input ``{"environment", "environment_settings", "jobs"}``); ``deny`` and
``warn`` sets of ``{"rule", "job", "msg"[, "hint"]}`` objects; ``exception`` sets of
``{"rules": [...], "reason": "..."}`` objects waiving rule ids for that input. Per-environment
data (``policies/data/default.yaml`` merged with ``policies/data/<env>.yaml``) is
``data.params``. :func:`evaluate` is all a command needs: a deny is an ERROR diagnostic, a warn
a WARNING, coded with the rule id and located at the job's config file.

The policy bundle is compiled once per process and environment. rego-cpp quirks this module
works around: a failed query's output must not be printed (it crashes), and parse errors are
written to the process's stdout (captured here and turned into a :class:`PolicyError`).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from regopy import Input, Interpreter

from ingestion.config.diagnostics import ConfigError, Diagnostic, Location, Severity
from ingestion.config.loader import ENVIRONMENTS_DIR, Environment

POLICY_DIR = "policies"
JOB_ENTRYPOINT = "salam/job"
ENVIRONMENT_ENTRYPOINT = "salam/environment"
MALFORMED = "SALAM-POLICY-MALFORMED"
BAD_EXCEPTION = "SALAM-POLICY-EXCEPTION"

T = TypeVar("T")


class PolicyError(Exception):
    """The policies cannot be loaded or evaluated: a broken file, bad data, an engine error."""


@dataclass(frozen=True)
class Finding:
    """One deny or warn produced for one input, before it becomes a diagnostic."""

    rule: str
    job: str
    message: str
    severity: Severity
    hint: str = ""


@dataclass(frozen=True)
class Waived:
    """A finding a documented exception waived, with the exception's reason."""

    finding: Finding
    reason: str


@dataclass
class Outcome:
    """What one input produced: findings that stand, findings waived, malformed output."""

    findings: list[Finding] = field(default_factory=list)
    waived: list[Waived] = field(default_factory=list)


@dataclass
class Report:
    """An environment's evaluation: diagnostics (deny = error, warn = warning) and waivers."""

    diagnostics: list[Diagnostic] = field(default_factory=list)
    waived: list[tuple[str, Waived]] = field(default_factory=list)


# --- Loading ---------------------------------------------------------------------------------


def policy_dir(root: Path) -> Path:
    return root / POLICY_DIR


def policy_files(directory: Path) -> list[Path]:
    """Every policy module: ``*.rego`` under ``directory``, tests excluded."""
    return sorted(
        p for p in directory.rglob("*.rego") if "tests" not in p.relative_to(directory).parts
    )


def rego_test_files(directory: Path) -> list[Path]:
    return sorted((directory / "tests").rglob("*.rego"))


def load_params(directory: Path, env: str) -> dict[str, Any]:
    """``data/default.*`` deep-merged with ``data/<env>.*`` (mappings merge, others replace)."""
    params: dict[str, Any] = {}
    for name in ("default", env):
        path = _data_file(directory / "data", name)
        if path is not None:
            params = merge(params, _read_data(path))
    return params


def merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _data_file(directory: Path, name: str) -> Path | None:
    for suffix in (".yaml", ".yml", ".json"):
        if (directory / f"{name}{suffix}").is_file():
            return directory / f"{name}{suffix}"
    return None


def _read_data(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise PolicyError(f"policy data {path}: cannot read: {_first_line(str(exc))}") from None
    if not isinstance(data, dict):
        raise PolicyError(f"policy data {path}: must be a mapping")
    return data


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), text)


def _with_captured_stdout(action: Callable[[], T]) -> tuple[T | None, str, Exception | None]:
    """Run ``action`` with fd 1 redirected (rego-cpp prints parse errors there)."""
    with tempfile.TemporaryFile(mode="w+b") as sink:
        saved = os.dup(1)
        os.dup2(sink.fileno(), 1)
        error: Exception | None = None
        result: T | None = None
        try:
            result = action()
        except Exception as exc:
            error = exc
        finally:
            os.dup2(saved, 1)
            os.close(saved)
        sink.seek(0)
        printed = sink.read().decode("utf-8", "replace")
    return result, printed, error


def _parse_error(printed: str, error: Exception) -> str:
    """The useful part of rego-cpp's report: the message and the ``-- file:line:col`` line."""
    lines = [line.strip() for line in printed.splitlines() if line.strip()]
    if lines and lines[0] == "Errors:":
        detail = [line for line in lines[1:4] if not set(line) <= {"~", "-"}]
        if detail:
            return " ".join(detail)
    match = re.search(r"errormsg \d+:([^)]*)\)", str(error))
    return match.group(1) if match else _first_line(str(error))


def add_module(interpreter: Interpreter, path: Path, display: str) -> None:
    """Add one Rego file; a syntax error becomes a PolicyError naming the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError(f"policy file {display}: cannot read: {exc.strerror}") from None
    _, printed, error = _with_captured_stdout(lambda: interpreter.add_module(display, text))
    if error is not None:
        raise PolicyError(f"policy file {display}: {_parse_error(printed, error)}")


def _display(path: Path, directory: Path) -> str:
    return f"{POLICY_DIR}/{path.relative_to(directory).as_posix()}"


class Engine:
    """Compiled policies plus one environment's data; evaluates inputs."""

    def __init__(self, directory: Path, params: Mapping[str, Any], tests: bool = False) -> None:
        self.directory = directory
        self.interpreter = Interpreter()
        files = policy_files(directory) + (rego_test_files(directory) if tests else [])
        for path in files:
            add_module(self.interpreter, path, _display(path, directory))
        self.interpreter.add_data({"params": _plain(params)})
        self.bundle = self._build()

    def _build(self) -> Any:
        bundle, printed, error = _with_captured_stdout(
            lambda: self.interpreter.build(None, [JOB_ENTRYPOINT, ENVIRONMENT_ENTRYPOINT])
        )
        if error is not None or bundle is None or not bundle.ok():
            detail = _parse_error(printed, error) if error else "bundle build failed"
            raise PolicyError(f"policies in {self.directory}: {detail}")
        return bundle

    def query(self, entrypoint: str, document: Mapping[str, Any]) -> Any:
        """Evaluate ``entrypoint`` against ``document``; the packages' values, or {}."""
        self.interpreter.set_input(Input(_plain(document)))
        output = self.interpreter.query_bundle_entrypoint(self.bundle, entrypoint)
        return _value(self.interpreter, output, entrypoint)

    def query_rule(self, ref: str) -> Any:
        """Evaluate a plain query (``data.pkg.rule``); raises PolicyError on engine errors."""
        output = self.interpreter.query(ref)
        return _value(self.interpreter, output, ref)


def _value(interpreter: Interpreter, output: Any, what: str) -> Any:
    if not output.ok():  # never str() a failed output: rego-cpp crashes
        raise PolicyError(f"policy evaluation of {what} failed: {_engine_error(interpreter)}")
    if not output.results or not output.results[0].expressions:
        return None
    return output.results[0].expressions[0]


def _engine_error(interpreter: Interpreter) -> str:
    try:
        from regopy.rego_shared import rego_get_error

        return _first_line(rego_get_error(interpreter._impl))
    except Exception:
        return "unknown rego error"


def _plain(value: Any) -> Any:
    """A JSON-only copy (mappings, tuples, dates, paths become JSON types)."""
    return json.loads(json.dumps(value, default=str))


_ENGINES: dict[tuple[str, str], Engine] = {}


def engine(root: Path, env: str) -> Engine:
    """The compiled policies for ``env``, built once per process."""
    directory = policy_dir(root).resolve()
    key = (str(directory), env)
    if key not in _ENGINES:
        _ENGINES[key] = Engine(directory, load_params(directory, env))
    return _ENGINES[key]


def clear_cache() -> None:
    _ENGINES.clear()


# --- Evaluation ------------------------------------------------------------------------------


def evaluate(environment: Environment, plans: Mapping[str, Mapping[str, Any]]) -> list[Diagnostic]:
    """Deny → ERROR, warn → WARNING diagnostics for the environment and each planned job.

    No ``policies/`` directory under the environment's root means no policies. Raises
    :class:`PolicyError` when a policy file is broken.
    """
    return check(environment, plans).diagnostics


def enforce(
    environment: Environment, plans: Mapping[str, Mapping[str, Any]], fail_on_warn: bool = False
) -> list[Diagnostic]:
    """Evaluate and block: raise :class:`ConfigError` on a deny (or a warn with ``fail_on_warn``)
    or a broken policy file; otherwise return the warnings to show."""
    try:
        found = evaluate(environment, plans)
    except PolicyError as exc:
        where = Location(str(policy_dir(environment.root).name))
        raise ConfigError(
            [Diagnostic("policy-error", str(exc), where, hint="fix the policy file")]
        ) from exc
    if any(d.severity is Severity.ERROR for d in found) or (fail_on_warn and found):
        raise ConfigError(found)
    return found


def check(environment: Environment, plans: Mapping[str, Mapping[str, Any]]) -> Report:
    """Like :func:`evaluate`, also returning the findings documented exceptions waived."""
    report = Report()
    if not policy_dir(environment.root).is_dir():
        return report
    compiled = engine(environment.root, environment.name)
    settings = _plain(environment.settings)
    env_file = f"{ENVIRONMENTS_DIR}/{environment.name}/environment.yaml"
    env_doc = {
        "environment": environment.name,
        "environment_settings": settings,
        "jobs": sorted(plans),
    }
    _collect(report, env_file, evaluate_input(compiled, ENVIRONMENT_ENTRYPOINT, env_doc))
    for job in environment.jobs:
        if job.name not in plans:
            continue
        doc = job_input(environment.name, settings, job.data, plans[job.name])
        _collect(report, job.path, evaluate_input(compiled, JOB_ENTRYPOINT, doc, job.name))
    report.diagnostics.sort(
        key=lambda d: (d.location, d.severity != Severity.ERROR, d.code, d.summary)
    )
    return report


def job_input(
    env: str, settings: Any, job: Mapping[str, Any], plan: Mapping[str, Any]
) -> dict[str, Any]:
    """The input document of one job's evaluation."""
    return {"environment": env, "environment_settings": settings, "job": job, "plan": plan}


def evaluate_input(
    compiled: Engine, entrypoint: str, document: Mapping[str, Any], job: str = ""
) -> Outcome:
    """Evaluate one input: findings left after exceptions, and the waived ones."""
    packages = compiled.query(entrypoint, document) or {}
    denies, warns, exceptions = _gather(packages)
    outcome = Outcome()
    waivers: dict[str, str] = {}
    for value in exceptions:
        if _valid_exception(value):
            for rule in value["rules"]:
                waivers.setdefault(rule, value["reason"])
        else:
            outcome.findings.append(_bad_exception(value, job))
    for severity, values in ((Severity.ERROR, denies), (Severity.WARNING, warns)):
        for value in values:
            finding = _finding(value, severity, job)
            if finding.rule in waivers and finding.rule not in (MALFORMED, BAD_EXCEPTION):
                outcome.waived.append(Waived(finding, waivers[finding.rule]))
            else:
                outcome.findings.append(finding)
    outcome.findings.sort(key=lambda f: (f.severity != Severity.ERROR, f.rule, f.message))
    return outcome


def _gather(node: Any) -> tuple[list[Any], list[Any], list[Any]]:
    """deny, warn and exception values of every package below ``node`` (nested packages too)."""
    found: dict[str, list[Any]] = {"deny": [], "warn": [], "exception": []}
    for key, value in _walk_packages(node):
        found[key].extend(value)
    return found["deny"], found["warn"], found["exception"]


def _walk_packages(node: Any) -> Iterator[tuple[str, list[Any]]]:
    if not isinstance(node, dict):
        return
    for key, value in sorted(node.items()):
        if key in ("deny", "warn", "exception") and isinstance(value, list):
            yield key, value
        elif isinstance(value, dict):
            yield from _walk_packages(value)


def _finding(value: Any, severity: Severity, job: str) -> Finding:
    if (
        isinstance(value, dict)
        and isinstance(value.get("rule"), str)
        and value["rule"]
        and isinstance(value.get("msg"), str)
    ):
        hint = value["hint"] if isinstance(value.get("hint"), str) else ""
        return Finding(value["rule"], str(value.get("job") or job), value["msg"], severity, hint)
    return Finding(
        MALFORMED,
        job,
        "a policy produced a message without a rule id: messages must be "
        '{"rule": "SALAM-...", "job": "...", "msg": "..."}',
        Severity.ERROR,
    )


def _valid_exception(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and isinstance(value.get("rules"), list)
        and all(isinstance(rule, str) for rule in value["rules"])
        and isinstance(value.get("reason"), str)
        and bool(value["reason"].strip())
    )


def _bad_exception(value: Any, job: str) -> Finding:
    rules = value.get("rules") if isinstance(value, dict) else value
    return Finding(
        BAD_EXCEPTION,
        job,
        f"exception {json.dumps(rules)} has no reason: exceptions must be "
        '{"rules": [...], "reason": "..."}',
        Severity.ERROR,
    )


def _collect(report: Report, file: str, outcome: Outcome) -> None:
    for finding in outcome.findings:
        report.diagnostics.append(diagnostic(file, finding))
    report.waived.extend((file, waived) for waived in outcome.waived)


def diagnostic(file: str, finding: Finding) -> Diagnostic:
    who = f"job '{finding.job}'" if finding.job else "environment"
    return Diagnostic(
        code=finding.rule,
        summary=f"{who}: {finding.message}",
        location=Location(file),
        path="$",
        hint=finding.hint,
        severity=finding.severity,
    )


# --- Policy tests ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PolicyTestResult:
    """One policy test: a Rego ``test_*`` rule or a fixture case."""

    name: str
    source: str
    passed: bool
    detail: str = ""


_PACKAGE = re.compile(r"^package\s+([\w.]+)", re.MULTILINE)
_TEST_RULE = re.compile(r"^(test_\w+)\b", re.MULTILINE)


def run_tests(directory: Path) -> list[PolicyTestResult]:
    """Run every Rego test rule in ``tests/*.rego`` and every fixture in ``tests/fixtures``.

    Rego tests see ``data.params`` from ``data/default.*``; a fixture names its environment
    and is evaluated exactly as :func:`evaluate` would evaluate a job.
    """
    directory = directory.resolve()
    results = _rego_tests(directory)
    results.extend(_fixture_tests(directory))
    return results


def _rego_tests(directory: Path) -> list[PolicyTestResult]:
    files = rego_test_files(directory)
    if not files:
        return []
    compiled = Engine(directory, load_params(directory, "default"), tests=True)
    results = []
    for path in files:
        text = path.read_text(encoding="utf-8")
        package = _PACKAGE.search(text)
        source = _display(path, directory)
        if package is None:
            results.append(PolicyTestResult(source, source, False, "no package declaration"))
            continue
        for name in dict.fromkeys(_TEST_RULE.findall(text)):
            results.append(_rego_test(compiled, package.group(1), name, source))
    return results


def _rego_test(compiled: Engine, package: str, name: str, source: str) -> PolicyTestResult:
    qualified = f"data.{package}.{name}"
    try:
        value = compiled.query_rule(qualified)
    except PolicyError as exc:
        return PolicyTestResult(qualified, source, False, str(exc))
    if value is True:
        return PolicyTestResult(qualified, source, True)
    return PolicyTestResult(qualified, source, False, "undefined or false")


def _fixture_tests(directory: Path) -> list[PolicyTestResult]:
    results = []
    for path in sorted((directory / "tests" / "fixtures").glob("*.y*ml")):
        source = _display(path, directory)
        try:
            results.append(_fixture_test(directory, path, source))
        except PolicyError as exc:
            results.append(PolicyTestResult(f"fixture {path.stem}", source, False, str(exc)))
    return results


def _fixture_test(directory: Path, path: Path, source: str) -> PolicyTestResult:
    case = _read_data(path)
    env = str(case.get("environment", "dev"))
    params = merge(load_params(directory, env), case.get("params") or {})
    compiled = Engine(directory, params)
    document = job_input(
        env, case.get("environment_settings") or {}, case.get("job") or {}, case.get("plan") or {}
    )
    job = str((case.get("plan") or {}).get("job") or (case.get("job") or {}).get("name") or "")
    outcome = evaluate_input(compiled, JOB_ENTRYPOINT, document, job)
    got = {
        "deny": sorted({f.rule for f in outcome.findings if f.severity is Severity.ERROR}),
        "warn": sorted({f.rule for f in outcome.findings if f.severity is Severity.WARNING}),
        "waived": sorted({w.finding.rule for w in outcome.waived}),
    }
    expect = case.get("expect") or {}
    want = {key: sorted(set(expect.get(key) or [])) for key in got}
    name = f"fixture {path.stem}"
    if got == want:
        return PolicyTestResult(name, source, True)
    diff = "; ".join(f"{k}: expected {want[k]}, got {got[k]}" for k in got if got[k] != want[k])
    return PolicyTestResult(name, source, False, diff)
