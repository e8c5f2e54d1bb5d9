"""Controller tests: ``reconcile serve`` as a subprocess on a clone of a bare "remote" made by
the test, against the real crontab file target and a real Temporal dev server.

:class:`Site` holds the three repositories — ``work`` (where the test commits), ``remote.git``
(bare) and ``clone`` (the controller's) — and starts, queries and stops controllers. Every wait
is bounded; every process is ended at teardown.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from reconciler import engine
from tests.reconciler.backends.temporal.conftest import temporal_server  # noqa: F401
from tests.reconciler.backends.temporal.server import TemporalServer, free_port
from tests.reconciler.gitops.conftest import commit, git, repo  # noqa: F401

RECONCILE = Path(sys.executable).parent / "reconcile"
WAIT_SECONDS = 60.0
_NAMESPACES = itertools.count()


class Site:
    def __init__(self, work: Path, server: TemporalServer | None, namespace: str) -> None:
        self.work, self.server, self.namespace = work, server, namespace
        self.remote = work.with_name(f"{work.name}-remote.git")
        self.clone = work.with_name(f"{work.name}-clone")
        git(work.parent, "clone", "-q", "--bare", str(work), str(self.remote))
        git(work, "remote", "add", "origin", str(self.remote))
        git(work.parent, "clone", "-q", str(self.remote), str(self.clone))
        self.processes: list[subprocess.Popen[bytes]] = []
        self.port = 0
        self.token: str | None = None  # sent as a bearer token when the controller wants one
        self.crontab = self.clone / ".salam/cron/salam-dev.cron"

    @property
    def backends(self) -> tuple[str, ...]:
        return ("crontab", "temporal") if self.server else ("crontab",)

    def overrides(self) -> list[str]:
        if self.server is None:
            return []
        return [f"temporal.address={self.server.address}"]

    def push(self, message: str) -> str:
        """Commit what changed in ``work`` (if anything) and push it to the remote; the head."""
        head = commit(self.work, message) if git(self.work, "status", "--porcelain") else ""
        head = head or git(self.work, "rev-parse", "HEAD")
        git(self.work, "push", "-q", "origin", "HEAD:main")
        return head

    def start(
        self,
        *settings: str,
        extra: tuple[str, ...] = (),
        first_pass: bool = True,
        envs: tuple[str, ...] = ("dev",),
    ) -> subprocess.Popen[bytes]:
        """Start ``reconcile serve`` on the clone for ``envs``; ``settings`` are ``sync.*``
        overrides; wait for dev's first pass unless ``first_pass`` is False."""
        self.port = free_port()
        argv = [str(RECONCILE), "serve", "--root", str(self.clone)]
        for env in envs:
            argv += ["--env", env]
        argv += ["--listen", f"127.0.0.1:{self.port}", "--lock-timeout", "10", *extra]
        for name in self.backends:
            argv += ["--backend", name]
        for value in [*self.overrides(), "sync.interval=1s", *settings]:
            argv += ["--set", value]
        log = self.work.with_name(f"{self.work.name}-controller-{len(self.processes)}.log")
        with log.open("ab") as stream:
            process = subprocess.Popen(argv, stdout=stream, stderr=subprocess.STDOUT)
        self.processes.append(process)
        if first_pass:
            self.wait(lambda s: s["last_check"] is not None, "the first pass")
        return process

    def status(self, env: str = "dev") -> dict[str, Any]:
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}/status/{env}")
        with urllib.request.urlopen(self._authorized(request), timeout=5) as r:
            return dict(json.load(r))

    def get(
        self, path: str, method: str = "GET", headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, Any]]:
        url = f"http://127.0.0.1:{self.port}{path}"
        request = self._authorized(
            urllib.request.Request(url, method=method, headers=headers or {})
        )
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return response.status, json.load(response)
        except urllib.error.HTTPError as exc:
            return exc.code, json.load(exc)

    def _authorized(self, request: urllib.request.Request) -> urllib.request.Request:
        if self.token is not None and not request.has_header("Authorization"):
            request.add_header("Authorization", f"Bearer {self.token}")
        return request

    def wait(
        self,
        check: Callable[[dict[str, Any]], bool],
        what: str,
        env: str = "dev",
        seconds: float = WAIT_SECONDS,
    ) -> dict[str, Any]:
        """Poll ``env``'s status until ``check`` holds; fail after ``seconds``."""
        deadline = time.monotonic() + seconds
        last: dict[str, Any] = {}
        while time.monotonic() < deadline:
            process = self.processes[-1]
            assert process.poll() is None, f"controller exited ({process.returncode}): {self.log()}"
            try:
                last = self.status(env)
                if check(last):
                    return last
            except OSError:
                pass  # not listening yet
            time.sleep(0.1)
        raise AssertionError(f"waited {seconds:.0f}s for {what}; status: {last}\n{self.log()}")

    def passes(self, count: int) -> dict[str, Any]:
        """Wait until ``count`` more passes have started and the last one has finished."""
        first = self.status()["attempts"]
        return self.wait(
            lambda s: s["attempts"] >= first + count and s["phase"] == "idle",
            f"{count} more passes",
        )

    def stop(self, process: subprocess.Popen[bytes] | None = None) -> int:
        """SIGTERM the controller; its exit code (bounded wait)."""
        process = process or self.processes[-1]
        process.send_signal(signal.SIGTERM)
        return process.wait(timeout=WAIT_SECONDS)

    def log(self) -> str:
        logs = sorted(self.work.parent.glob(f"{self.work.name}-controller-*.log"))
        return "\n".join(path.read_text(errors="replace")[-3000:] for path in logs)

    def live(self) -> dict[str, Any]:
        """Salam's live resources, read through the engine (read-only)."""
        options = engine.ReconcileOptions(
            root=self.clone,
            env="dev",
            backends=self.backends,
            overrides=tuple(self.overrides()),
        )
        with engine.prepare(options) as current:
            return {str(r.key): r.spec for r in current.live if r.managed}

    def close(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=30)


@pytest.fixture
def site(
    repo: Callable[..., Path],  # noqa: F811
    temporal_server: TemporalServer,  # noqa: F811
) -> Iterator[Site]:
    namespace = f"salam-controller-{os.getpid()}-{next(_NAMESPACES)}"
    temporal_server.create_namespace(namespace)
    work = repo("dev")
    for path in (work / "environments/dev").rglob("*.yaml"):  # the test's own namespace
        path.write_text(
            path.read_text().replace("namespace: ingestion-dev", f"namespace: {namespace}")
        )
    commit(work, "the test's Temporal namespace")
    made = Site(work, temporal_server, namespace)
    yield made
    made.close()


@pytest.fixture
def crontab_site(repo: Callable[..., Path]) -> Iterator[Site]:  # noqa: F811
    """The crontab file target only: no Temporal server."""
    made = Site(repo("dev"), None, "")
    yield made
    made.close()
