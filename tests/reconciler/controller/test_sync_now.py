""" "Sync now" (the web UI's request to apply what drifted, self-heal off) survives a pass that
fails before deciding: the loop applies it at the next pass, on the real crontab file target."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from reconciler.controller import policy
from reconciler.controller.loop import EnvironmentLoop, Target
from reconciler.controller.source import SourceError, WorkTree


class Flaky(WorkTree):
    """The work tree, failing its next fetch when told to (an unreachable remote)."""

    failing = False

    def fetch(self) -> None:
        if self.failing:
            self.failing = False
            raise SourceError("git fetch failed: the remote is down (injected)")
        return super().fetch()


def test_a_sync_request_outlives_a_failed_pass(project: Callable[..., Path]) -> None:
    root = project("dev")
    source = Flaky(root)
    sync = policy.of("dev", {"sync": {"mode": "apply", "self_heal": False}}, ())
    loop = EnvironmentLoop(Target(root, "dev", backends=("crontab",)), source, sync, root / "s")
    loop.step()
    assert loop.status.sync_state.value == "synced"
    crontab = root / ".salam/cron/salam-dev.cron"
    applied = crontab.read_text()
    crontab.write_text(applied.replace("30 * * * *", "50 * * * *"))
    loop.step()
    assert "self_heal is off" in (loop.status.blocked or "")

    loop.request_sync()
    source.failing = True
    loop.step()
    assert loop.status.sync_state.value == "failed" and crontab.read_text() != applied
    loop.step()
    assert loop.status.sync_state.value == "synced" and crontab.read_text() == applied
    loop.step()  # the request was used: a new hand edit is reported again, not applied
    crontab.write_text(applied.replace("30 * * * *", "55 * * * *"))
    loop.step()
    assert "self_heal is off" in (loop.status.blocked or "")
