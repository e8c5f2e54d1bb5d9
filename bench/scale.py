"""Benchmark (issue 15): ``reconcile validate`` and a no-change ``--dry-run`` of N jobs with the
shipped policies, as ratios to parsing the same files with libyaml's CSafeLoader.

Generates the environment of :mod:`tests.scale_environment` (N plain_cron jobs, the shipped
policies, a few waived findings) in a temporary directory, applies it once to its crontab file
target, then measures, in one run: CSafeLoader (and PyYAML's pure-Python ``safe_load``) over the
job files and environment.yaml, in this process; ``reconcile validate --env dev`` and
``reconcile --env dev --dry-run --backend crontab`` as subprocesses (wall time, and each
child's peak RSS from ``os.wait4``); and ``reconcile --help`` and every subcommand's
``--help``. Each timing is the median of ``--repeat`` runs.
Targets: validate and dry-run ≤ 3 s and ≤ 30x CSafeLoader at 1,000 jobs, ≤ 25 s and ≤ 1 GiB
at 10,000, every help ≤ 0.25 s.

Usage: ``.venv/bin/python bench/scale.py --jobs 1000 [--jobs 10000] [--repeat 3] [--baseline DIR]``
(``--baseline``: another source tree, e.g. ``git archive main | tar -x -C DIR``, measured in
the same run, taking turns);
``--profile FILE`` also writes cProfile's top functions of ``validate`` (in-process) of
``--profile-jobs`` jobs (1,000) to FILE;
``--plot DIR`` draws time and peak RSS against the number of jobs (``scale_time.svg``,
``scale_memory.svg``) when more than one ``--jobs`` is measured.
"""

from __future__ import annotations

import argparse
import io
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as bench/scale.py too

import typer.main
import yaml

from bench import svgplot
from reconciler.cli.app import app
from tests import scale_environment

ROOT = Path(__file__).resolve().parent.parent
MAIN = "from reconciler.cli.app import main; main()"


@dataclass(frozen=True)
class Run:
    seconds: float
    peak_rss_mib: float
    code: int


def reconcile(tree: Path, *args: str) -> tuple[list[str], dict[str, str]]:
    """The argv and environment that run ``reconcile ARGS`` from the source tree ``tree``."""
    return [sys.executable, "-c", MAIN, *args], {**os.environ, "PYTHONPATH": str(tree)}


def run(command: tuple[list[str], dict[str, str]], cwd: Path) -> Run:
    """Run ``command`` to the end: wall time, the child's own peak RSS, its exit code."""
    args, env = command
    started = time.perf_counter()
    child = subprocess.Popen(
        args, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    return Run(seconds, usage.ru_maxrss / 1024, child.returncode)


def median_run(
    commands: Sequence[tuple[list[str], dict[str, str]]], cwd: Path, repeat: int
) -> list[Run]:
    """Each command ``repeat`` times, taking turns; per command the median time, the highest
    peak RSS. Every run must exit 0."""
    runs: list[list[Run]] = [[] for _ in commands]
    for _ in range(repeat):
        for done, command in zip(runs, commands, strict=True):
            done.append(run(command, cwd))
            assert done[-1].code == 0, f"{' '.join(command[0])} exited {done[-1].code} in {cwd}"
    return [
        Run(statistics.median(r.seconds for r in done), max(r.peak_rss_mib for r in done), 0)
        for done in runs
    ]


def parse_seconds(root: Path, loader: Callable[[str], object], repeat: int) -> float:
    files = sorted((root / "environments" / scale_environment.ENV).rglob("*.yaml"))
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        for path in files:
            loader(path.read_text(encoding="utf-8"))
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


Row = tuple[str, list[Run] | float]


def measure(jobs: int, trees: Sequence[Path], repeat: int) -> list[Row]:
    """The parse times and, per source tree, validate and the in-sync dry-run."""
    with tempfile.TemporaryDirectory() as tmp:
        root = scale_environment.make_project(Path(tmp), jobs)
        env = ("--env", scale_environment.ENV)
        applied = run(reconcile(trees[-1], *env, "--backend", "crontab", "--yes"), root)
        assert applied.code == 0, f"the first apply exited {applied.code}"
        c_parse = parse_seconds(root, lambda t: yaml.load(t, Loader=yaml.CSafeLoader), repeat)
        py_parse = parse_seconds(root, yaml.safe_load, repeat)
        validate = [reconcile(tree, "validate", *env) for tree in trees]
        dry_run = [
            reconcile(tree, *env, "--dry-run", "--exit-code", "--backend", "crontab")
            for tree in trees
        ]
        return [
            ("CSafeLoader parse", c_parse),
            ("yaml.safe_load parse", py_parse),
            ("reconcile validate", median_run(validate, root, repeat)),
            ("reconcile --dry-run (crontab, in sync)", median_run(dry_run, root, repeat)),
        ]


def command_paths(command: Any, path: tuple[str, ...] = ()) -> list[list[str]]:
    """``[]`` for ``reconcile`` itself, then every subcommand's path (``policy test`` too)."""
    paths = [list(path)]
    names = command.list_commands(None) if hasattr(command, "list_commands") else []
    for name in names:
        paths += command_paths(command.get_command(None, name), (*path, name))
    return paths


def helps(trees: Sequence[Path], repeat: int) -> list[tuple[str, list[Run]]]:
    """Every ``--help``, run outside any source tree (``python -c`` puts the working directory
    first on the path, which would shadow ``PYTHONPATH``)."""
    commands = [[*path, "--help"] for path in command_paths(typer.main.get_command(app))]
    with tempfile.TemporaryDirectory() as elsewhere:
        return [
            (
                " ".join(["reconcile", *c]),
                median_run([reconcile(tree, *c) for tree in trees], Path(elsewhere), repeat),
            )
            for c in commands
        ]


def header(trees: Sequence[Path], what: str) -> list[str]:
    names = ["baseline"] * (len(trees) - 1) + ["this tree"]
    cells = " | ".join(f"{n}: {what}" for n in names)
    return [f"| what | {cells} |", "|---|" + "---:|" * len(trees)]


def table(jobs: int, trees: Sequence[Path], rows: list[Row]) -> str:
    c_parse = rows[0][1]
    assert isinstance(c_parse, float)
    lines = [f"### {jobs:,} jobs", "", *header(trees, "time (x CSafeLoader), peak RSS")]
    for label, value in rows:
        if isinstance(value, float):
            cells = [f"{value:.2f} s ({value / c_parse:.1f}x)"] * len(trees)
        else:
            cells = [
                f"{r.seconds:.2f} s ({r.seconds / c_parse:.1f}x), {r.peak_rss_mib:.0f} MiB"
                for r in value
            ]
        lines.append(f"| {label} | {' | '.join(cells)} |")
    return "\n".join(lines)


def profile_validate(jobs: int, trees: Sequence[Path], out: Path) -> None:
    """cProfile of ``reconcile validate`` run from each tree: the top functions, into ``out``."""
    sections = []
    with tempfile.TemporaryDirectory() as tmp:
        root = scale_environment.make_project(Path(tmp), jobs)
        script = Path(tmp) / "reconcile_main.py"
        script.write_text("from reconciler.cli.app import app\n\napp()\n")  # main() os._exit()s
        for name, tree in zip(["baseline"] * (len(trees) - 1) + ["this tree"], trees, strict=True):
            stats_file = Path(tmp) / "validate.prof"
            args, env = reconcile(tree, "validate", "--env", scale_environment.ENV)
            profiled = [sys.executable, "-m", "cProfile", "-o", str(stats_file), str(script)]
            subprocess.run(
                [*profiled, *args[3:]], cwd=root, env=env, capture_output=True, check=False
            )
            text = io.StringIO()
            stats = pstats.Stats(str(stats_file), stream=text).strip_dirs()
            stats.sort_stats("cumulative").print_stats(35)
            stats.sort_stats("tottime").print_stats(20)
            sections.append(f"## {name} ({tree})\n\n```\n{text.getvalue().strip()}\n```\n")
    title = f"# cProfile: reconcile validate, {jobs:,} generated jobs (bench/scale.py --profile)"
    out.write_text("\n".join([title, "", *sections]))


def plot(measured: Mapping[int, list[Row]], folder: Path) -> None:
    """Time and peak RSS against the number of jobs (this tree), log-log, as two SVG files."""
    sizes = sorted(measured)
    rows = [dict(measured[n]) for n in sizes]

    def runs(label: str) -> list[Run]:
        found = [row[label] for row in rows]
        return [r[-1] for r in found if isinstance(r, list)]

    validate, dry_run = runs("reconcile validate"), runs("reconcile --dry-run (crontab, in sync)")
    parse = [float(row["CSafeLoader parse"]) for row in rows]  # type: ignore[arg-type]
    folder.mkdir(parents=True, exist_ok=True)
    times = {
        "validate": [r.seconds for r in validate],
        "dry-run": [r.seconds for r in dry_run],
        "CSafeLoader parse": parse,
    }
    memory = {
        "validate": [r.peak_rss_mib for r in validate],
        "dry-run": [r.peak_rss_mib for r in dry_run],
    }
    title = "reconcile on N generated jobs, shipped policies"
    (folder / "scale_time.svg").write_text(
        svgplot.chart(f"{title}: wall time", "jobs", "seconds", sizes, times, "s")
    )
    (folder / "scale_memory.svg").write_text(
        svgplot.chart(f"{title}: peak RSS", "jobs", "MiB", sizes, memory, "MiB")
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, action="append")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--baseline", type=Path, help="another source tree to measure too")
    parser.add_argument("--profile", type=Path)
    parser.add_argument("--profile-jobs", type=int, default=1000, help="jobs of the profiled run")
    parser.add_argument("--help-only", action="store_true", help="only the --help timings")
    parser.add_argument(
        "--plot", type=Path, help="a folder: scale_time.svg and scale_memory.svg of this tree"
    )
    args = parser.parse_args()
    trees = [args.baseline.resolve(), ROOT] if args.baseline else [ROOT]
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        "unknown",
    )
    print(
        f"Machine: {os.cpu_count()} CPUs ({cpu}), Python {sys.version.split()[0]}; "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; load {os.getloadavg()[0]:.2f}"
    )
    measured: dict[int, list[Row]] = {}
    for jobs in [] if args.help_only else args.jobs or [1000]:
        measured[jobs] = measure(jobs, trees, args.repeat)
        print()
        print(table(jobs, trees, measured[jobs]))
    if args.plot and len(measured) > 1:
        plot(measured, args.plot)
    print()
    print(*header(trees, "time, peak RSS"), sep="\n")
    for label, runs in helps(trees, max(args.repeat, 5)):
        cells = " | ".join(f"{r.seconds:.3f} s, {r.peak_rss_mib:.0f} MiB" for r in runs)
        print(f"| `{label}` | {cells} |")
    if args.profile:
        profile_validate(args.profile_jobs, trees, args.profile)


if __name__ == "__main__":
    main()
