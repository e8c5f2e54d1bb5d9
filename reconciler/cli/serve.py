"""``reconcile serve --env E [--env F] [--listen HOST:PORT] [--once]``: run the controller.

Only wires: loads each environment from the work tree (its ``sync.source`` and first policy;
``--worktree`` follows the files as they are instead of fetching, for a developer's machine),
builds one :class:`~reconciler.controller.loop.EnvironmentLoop` per environment, starts the HTTP
endpoint — status, metrics and the web UI (:mod:`reconciler.web`) — and runs until
SIGTERM/SIGINT (exit 0 once the step under way has finished). A listen address that is not
loopback needs ``--token-ref`` or ``--behind-proxy`` (:func:`listen_address`);
``--actions-token-ref`` turns on the web UI's "sync now", "pause" and "resume"
(:mod:`reconciler.web.actions`) with the bearer token each must carry, even on loopback. The
controller package is imported inside the command, so ``reconcile --help`` stays fast. Exit
codes: 0 stopped, 1 cannot start (address in use, unresolved token, exposed without a token),
3 invalid config.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from ingestion.exitcodes import ExitCode
from ingestion.shared import references
from reconciler.cli import common, lazy
from reconciler.cli.reconcile import BackendOption, LockTimeoutOption

if TYPE_CHECKING:
    from ingestion.config import loader
    from reconciler import engine
    from reconciler.controller.loop import EnvironmentLoop
else:
    loader = lazy.module("ingestion.config.loader")
    engine = lazy.module("reconciler.engine")

EnvsOption = Annotated[
    list[str], typer.Option("--env", "-e", help="Environment to keep in sync (repeatable).")
]
ListenOption = Annotated[
    str,
    typer.Option("--listen", help="HOST:PORT of the status endpoint (port 0: any free port)."),
]
OnceOption = Annotated[
    bool, typer.Option("--once", help="One pass per environment, then exit (no endpoint).")
]
WorkTreeOption = Annotated[
    bool,
    typer.Option(
        "--worktree",
        help="Follow the work tree as it is, without git (a developer's machine), instead of "
        "fetching sync.source.",
    ),
]
TokenOption = Annotated[
    str | None,
    typer.Option(
        "--webhook-token-ref",
        help="Secret reference (env:NAME or file:/path) of the bearer token POST /webhook/git "
        "must carry.",
    ),
]
ReadTokenOption = Annotated[
    str | None,
    typer.Option(
        "--token-ref",
        help="Secret reference (env:NAME or file:/path) of the bearer token every request but "
        "the health probes must carry (the web UI and /status too); needed to listen beyond "
        "loopback unless --behind-proxy.",
    ),
]
ProxyOption = Annotated[
    bool,
    typer.Option(
        "--behind-proxy",
        help="Listen beyond loopback without a token: an authenticating proxy in front of the "
        "endpoint checks every request (see the README's web UI security notes).",
    ),
]
ActionsTokenOption = Annotated[
    str | None,
    typer.Option(
        "--actions-token-ref",
        help="Turn on the web UI's actions — sync now, pause, resume: the engine, lock, policy "
        "and audit of the CLI; refused in detect mode — with the secret reference (env:NAME or "
        "file:/path) of the bearer token each action must carry, even on loopback. Off "
        "without it.",
    ),
]


def command(
    env: EnvsOption,
    listen: ListenOption = "127.0.0.1:8080",
    once: OnceOption = False,
    backend: BackendOption = None,
    lock_timeout: LockTimeoutOption = 60.0,
    worktree: WorkTreeOption = False,
    webhook_token_ref: TokenOption = None,
    token_ref: ReadTokenOption = None,
    behind_proxy: ProxyOption = False,
    actions_token_ref: ActionsTokenOption = None,
    set_: common.SetOption = None,
    root: common.RootOption = None,
    debug: common.DebugOption = False,
) -> None:
    """Keep environments in sync with their git branch, serving health and status over HTTP."""
    report = common.Report("serve", common.Format.TEXT)

    def body() -> NoReturn:
        from reconciler.controller import run, server  # lazily: `--help` stays fast

        target = common.project_root(root)
        loops = [_loop(target, e, set_, backend, lock_timeout, worktree) for e in env]
        controller = run.Controller(loops)
        controller.handle_signals()
        if once:
            controller.run(once=True)
            report.finish(_code(loops))
        token, read_token = resolve_token(webhook_token_ref), resolve_token(token_ref)
        actions_token = resolve_token(actions_token_ref)
        host, port = listen_address(listen, read_token, behind_proxy)
        try:
            tokens = server.Tokens(token, read_token, actions_token)
            http = server.Server(controller, host, port, tokens)
        except OSError as exc:
            hint = "pick another --listen HOST:PORT"
            raise common.CommandError(f"cannot listen on {listen}: {exc}", hint) from exc
        http.start()
        typer.echo(f"serving {', '.join(env)} on {http.url} (web UI: {http.url}/)", err=True)
        try:
            controller.run()
        finally:
            http.close()
        typer.echo("stopped", err=True)
        report.finish(ExitCode.OK)

    _logging(debug)
    common.run(report, body, debug)


def listen_address(listen: str, token: str | None, proxy: bool) -> tuple[str, int]:
    """HOST:PORT parsed, and refused beyond loopback without a token or a proxy."""
    from reconciler.web import security

    host, _, port = listen.rpartition(":")
    host = host or "127.0.0.1"
    if not port.isdigit():
        raise common.CommandError(f"cannot listen on {listen}: no port", "use --listen HOST:PORT")
    refused = security.exposure_error(host, token, proxy)
    if refused is not None:
        raise common.CommandError(refused, "see the README's web UI security notes")
    return host, int(port)


def resolve_token(reference: str | None) -> str | None:
    if reference is None:
        return None
    try:
        return references.resolve_text(reference)
    except references.UnresolvedReference as exc:
        raise common.CommandError(exc.message, exc.hint) from exc


def _loop(
    root: Path,
    env: str,
    overrides: list[str] | None,
    backends: list[str] | None,
    lock_timeout: float,
    worktree: bool,
) -> EnvironmentLoop:
    from reconciler.controller import alerting, loop, policy, source

    environment = loader.load_environment(root, env, overrides or [])
    remote, branch = policy.source_of(environment.settings)
    target = loop.Target(root, env, tuple(overrides or ()), tuple(backends or ()), lock_timeout)
    initial = policy.of(env, environment.settings, engine.PROTECTED_ENVIRONMENTS)
    follows = source.WorkTree(root) if worktree else source.Source(root, remote, branch)
    alerts = alerting.Settings.of(environment.settings)
    state = engine.state_dir(environment)
    return loop.EnvironmentLoop(target, follows, initial, state, alerts=alerts)


def _code(loops: Sequence[EnvironmentLoop]) -> ExitCode:
    """--once: 1 when an environment's pass failed."""
    return ExitCode.ERROR if any(loop.status.failures for loop in loops) else ExitCode.OK


def _logging(debug: bool) -> None:
    """The controller's log lines go to stderr (a service's journal); with --debug, the
    traceback of each failed pass too."""
    logger = logging.getLogger("salam.controller")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        logger.addHandler(handler)
        logger.propagate = False  # --debug's handler on "salam" would print each line twice
    logger.setLevel(logging.DEBUG if debug else logging.INFO)
