"""What every ``reconcile`` command shares: option types, the JSON envelope, and the one place
that turns an error into output and an exit code.

Errors are one or two lines a person can act on; tracebacks only with ``--debug``, and never
with local variables (they can hold secrets). Logs of the ``salam`` loggers (among them the
Temporal SDK's own warnings, such as a retried RPC while the server is down) reach the terminal
only with ``--debug``.
"""

from __future__ import annotations

import contextlib
import enum
import logging
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from ingestion.config.diagnostics import ConfigError, Diagnostic
from ingestion.exitcodes import ExitCode
from reconciler import output
from reconciler.cli import lazy

if TYPE_CHECKING:
    from ingestion.config import loader
    from reconciler import policy
    from reconciler.backends import base
else:
    loader = lazy.module("ingestion.config.loader")
    base = lazy.module("reconciler.backends.base")
    policy = lazy.module("reconciler.policy")


class Format(enum.StrEnum):
    TEXT = "text"
    JSON = "json"


EnvOption = Annotated[
    str, typer.Option("--env", "-e", help="Environment: a directory under environments/.")
]
OutputOption = Annotated[
    Format, typer.Option("--output", "-o", help="text (people) or json (one document).")
]
SetOption = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        help="Override an environment.yaml setting, e.g. temporal.address=127.0.0.1:7233 "
        "(KEY=null removes it).",
    ),
]
RootOption = Annotated[
    Path | None,
    typer.Option(
        "--root", help="Project root holding environments/ (default: found from the cwd)."
    ),
]
DebugOption = Annotated[
    bool,
    typer.Option(
        "--debug", help="Show tracebacks of unexpected errors, and logs (Temporal SDK retries)."
    ),
]
FailOnWarnOption = Annotated[
    bool, typer.Option("--fail-on-warn", help="Policy warnings block too (exit 3).")
]


class CommandError(Exception):
    """A command cannot finish: a message, a hint and the exit code to end with."""

    def __init__(self, message: str, hint: str = "", code: ExitCode = ExitCode.ERROR) -> None:
        super().__init__(message)
        self.message, self.hint, self.code = message, hint, code


@dataclass
class Report:
    """What a command prints: text for people, a JSON document for machines."""

    command: str
    fmt: Format
    document: dict[str, Any] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def finish(self, code: ExitCode, text: Any = None) -> NoReturn:
        """Print the outcome (stdout) and exit with ``code``."""
        if self.fmt is Format.JSON:
            envelope = {
                "command": self.command,
                "ok": code == ExitCode.OK,
                "exit_code": int(code),
                "diagnostics": [d.to_json() for d in self.diagnostics],
                **self.document,
            }
            sys.stdout.write(output.dumps(envelope))
        else:
            if self.diagnostics:
                output.console(stderr=True).print(output.diagnostics_text(self.diagnostics), end="")
            if text is not None:
                output.console().print(text, end="")
        raise typer.Exit(int(code))

    def fail(self, message: str, hint: str, code: ExitCode) -> NoReturn:
        if self.fmt is Format.JSON:
            self.document["error"] = {"message": message, "hint": hint}
        else:
            typer.echo(f"Error: {message}" + (f"\n  hint: {hint}" if hint else ""), err=True)
        self.finish(code)


def project_root(root: Path | None) -> Path:
    return (root or loader.find_root(Path.cwd())).resolve()


def load(
    report: Report, root: Path | None, env: str, overrides: Sequence[str] | None
) -> loader.Environment:
    """Load and validate an environment; warnings are kept on the report."""
    environment = loader.load_environment(project_root(root), env, overrides or [])
    report.diagnostics.extend(environment.warnings)
    return environment


@contextlib.contextmanager
def _debug_logs(debug: bool) -> Iterator[None]:
    """With ``--debug``, show every ``salam`` log record (third-party ones included) on stderr."""
    if not debug:
        yield
        return
    logger = logging.getLogger("salam")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("debug: %(name)s %(levelname)s %(message)s"))
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def run(report: Report, body: Callable[[], NoReturn], debug: bool = False) -> NoReturn:
    """Run a command body, mapping every error to its message and exit code."""
    try:
        with _debug_logs(debug):
            body()
    except typer.Exit:
        raise
    except ConfigError as exc:
        report.diagnostics.extend(exc.diagnostics)
        report.document.setdefault(
            "error", {"message": str(exc), "hint": "fix the problems listed"}
        )
        report.finish(ExitCode.INVALID)
    except CommandError as exc:
        report.fail(exc.message, exc.hint, exc.code)
    except policy.PolicyError as exc:  # the policy engine failed: not a decision
        report.fail(exc.message, exc.hint, ExitCode.ERROR)
    except base.BackendError as exc:
        report.fail(
            str(exc),
            "check the backend's settings in environment.yaml and that it is reachable, "
            "or reconcile the other backends only (--backend crontab --backend temporal ...)",
            ExitCode.ERROR,
        )
    except KeyboardInterrupt:
        report.fail("interrupted", "", ExitCode.ERROR)
    except Exception as exc:
        if debug:
            traceback.print_exc()
        report.fail(
            f"unexpected {type(exc).__name__}: {exc}",
            "run again with --debug for the traceback",
            ExitCode.ERROR,
        )
