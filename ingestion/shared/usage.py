"""Usage errors as JSON, for both programs (``reconcile`` and ``ingest``).

A click/typer usage error (a missing option, a bad value, an unknown command) prints click's
text on stderr. When the arguments ask for JSON (``--output json``, or a program's own
spellings), :class:`JsonUsageGroup` answers instead with one JSON document on stdout — the
envelope every command prints (``command``, ``ok``, ``exit_code``, ``diagnostics``, ``error``) —
and exit 2. Each program subclasses it naming itself and its JSON spellings. A CLI module: it is
allowed ``typer`` by the layer contracts.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any, ClassVar, NoReturn

import typer
from typer._click import Context  # typer vendors its own click: typer._click, not click
from typer._click.exceptions import UsageError
from typer.core import TyperGroup

from ingestion.exitcodes import ExitCode

# Help and usage errors in click's plain text, for both programs: typer's rich panels import
# rich's Markdown and traceback renderers and draw tables, 0.15 s of every ``--help`` (issue 15).
HELP_MARKUP = None


def wants_json(args: Sequence[str], spellings: Sequence[tuple[str, ...]]) -> bool:
    """True when ``args`` (before a ``--``) hold one of ``spellings``."""
    args = list(args)
    options = args[: args.index("--")] if "--" in args else args
    return any(
        tuple(options[i : i + len(spelling)]) == spelling
        for i in range(len(options))
        for spelling in spellings
    )


class JsonUsageGroup(TyperGroup):
    """A typer group whose usage errors are a JSON document when JSON was asked for."""

    program: ClassVar[str] = ""
    json_spellings: ClassVar[tuple[tuple[str, ...], ...]] = (("--output", "json"),)

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: Context | None = None,
        **extra: Any,
    ) -> Context:
        as_json = wants_json(args, self.json_spellings)
        try:
            ctx = super().make_context(info_name, args, parent, **extra)
        except UsageError as exc:
            if as_json:
                self.usage_error(exc, None)
            raise
        ctx.meta[__name__] = as_json
        return ctx

    def invoke(self, ctx: Context) -> Any:
        try:
            return super().invoke(ctx)
        except UsageError as exc:
            if ctx.meta.get(__name__):
                self.usage_error(exc, ctx.invoked_subcommand)
            raise

    def usage_error(self, exc: UsageError, subcommand: str | None) -> NoReturn:
        """Print ``exc`` as the envelope of the command it belongs to, and exit 2."""
        names = _command_path(exc.ctx) or ([subcommand] if subcommand else [])
        document = {
            "command": " ".join(names) or self.program,
            "ok": False,
            "exit_code": int(ExitCode.USAGE),
            "diagnostics": [],
            "error": {
                "message": exc.format_message(),
                "hint": f"see `{' '.join([self.program, *names])} --help`",
            },
        }
        sys.stdout.write(json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False) + "\n")
        raise typer.Exit(int(ExitCode.USAGE))


def _command_path(ctx: Context | None) -> list[str]:
    names: list[str] = []
    while ctx is not None and ctx.parent is not None:
        names.insert(0, ctx.info_name or "")
        ctx = ctx.parent
    return names
