"""``reconcile ui --env E [--env F] [--listen HOST:PORT]``: the web UI, read-only, without the
controller loop.

Only wires: each page load runs one read-only comparison of the environment it shows
(:class:`reconciler.web.views.LocalViews`: no lock, no write), so a reload shows live as it is
now. The same pages and ``/status`` JSON as ``reconcile serve``, the same rules to listen
beyond loopback (``--token-ref`` or ``--behind-proxy``). Runs until SIGTERM/SIGINT (exit 0);
1 when it cannot start (address in use, unresolved token, exposed without a token), 3 on
invalid config.
"""

from __future__ import annotations

import signal
import threading
from typing import TYPE_CHECKING, NoReturn

import typer

from ingestion.exitcodes import ExitCode
from reconciler.cli import common, lazy
from reconciler.cli.reconcile import BackendOption, options
from reconciler.cli.serve import (
    EnvsOption,
    ListenOption,
    ProxyOption,
    ReadTokenOption,
    listen_address,
    resolve_token,
)

if TYPE_CHECKING:
    from ingestion.config import loader
else:
    loader = lazy.module("ingestion.config.loader")


def command(
    env: EnvsOption,
    listen: ListenOption = "127.0.0.1:8081",
    backend: BackendOption = None,
    token_ref: ReadTokenOption = None,
    behind_proxy: ProxyOption = False,
    set_: common.SetOption = None,
    root: common.RootOption = None,
    debug: common.DebugOption = False,
) -> None:
    """Serve the web UI of environments read-only (one comparison per page load, no loop)."""
    report = common.Report("ui", common.Format.TEXT)

    def body() -> NoReturn:
        from ingestion.shared.httpserve import HttpServer
        from ingestion.shared.httpserve import Response as HttpResponse
        from reconciler.web import routes, views

        for name in env:  # invalid config fails now, not on the first page
            loader.load_environment(common.project_root(root), name, set_ or [])
        token = resolve_token(token_ref)
        host, port = listen_address(listen, token, behind_proxy)
        local = views.LocalViews(env, lambda e: options(root, e, set_, backend=backend, prune=True))
        try:
            http = HttpServer(host, port, "salam-ui")
        except OSError as exc:
            hint = "pick another --listen HOST:PORT"
            raise common.CommandError(f"cannot listen on {listen}: {exc}", hint) from exc
        routes.mount(http, local, token)
        http.route("GET", "/healthz", lambda request: HttpResponse.json({"status": "ok"}))
        http.start()
        typer.echo(f"web UI of {', '.join(env)} (read-only) on {http.url}/", err=True)
        _wait_for_signal()
        http.close()
        report.finish(ExitCode.OK)

    common.run(report, body, debug)


def _wait_for_signal() -> None:
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    stop.wait()
