"""The progress of a long run: the engine names its stages in order; in CI or a pipe nothing is
shown before the delay, then the stage under way and one plain line per later stage, on stderr;
a run that ends first shows nothing; the CLI shows the stages of a slow dry-run."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from reconciler import engine
from reconciler.backends.memory import MemoryBackend, Store
from reconciler.cli.progress import Progress
from reconciler.model import LiveResource
from tests.conftest import run_reconcile
from tests.reconciler.engine.conftest import store  # noqa: F401


def test_the_engine_names_each_stage_as_it_starts(
    store: Store,  # noqa: F811
    project: Callable[..., Path],
) -> None:
    root = project("dev")
    stages: list[str] = []
    options = engine.ReconcileOptions(root=root, env="dev", progress=stages.append)
    with engine.prepare(options, for_apply=True) as current:
        engine.apply(current)
    assert stages == [
        "loading environment dev",
        "rendering 7 job(s) and checking the policies",
        "reading memory",
        "comparing",
        "applying 7 change(s)",
        "verifying",
    ]


def test_plain_lines_only_once_the_delay_has_passed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    unseen = io.StringIO()
    quick = Progress(unseen, delay=60)
    quick("loading environment dev")
    quick.stop()
    assert unseen.getvalue() == ""

    stream = io.StringIO()
    slow = Progress(stream, delay=0.05)
    slow("loading environment dev")
    slow._timer.join()  # the delay has passed: the stage under way is shown
    slow("reading crontab, temporal")
    slow.stop()
    slow("comparing")  # after the end: nothing more
    lines = stream.getvalue().splitlines()
    assert [line.rsplit(" (", 1)[0] for line in lines] == [
        "reconcile: loading environment dev",
        "reconcile: reading crontab, temporal",
    ]
    assert all(line.endswith("s)") for line in lines)


def test_a_slow_dry_run_shows_its_stages_on_stderr(
    store: Store,  # noqa: F811
    project: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = project("dev")
    monkeypatch.setenv("CI", "true")
    reading = threading.Event()
    plain_read = MemoryBackend.read

    def slow_read(self: MemoryBackend) -> list[LiveResource]:
        reading.wait(timeout=1.5)  # longer than the second before progress shows
        return plain_read(self)

    monkeypatch.setattr(MemoryBackend, "read", slow_read)
    result = run_reconcile("--env", "dev", "--root", str(root), "--dry-run")
    assert result.exit_code == 0, result.output
    assert "reconcile: reading memory (" in result.stderr
    assert "reconcile: comparing (" in result.stderr
