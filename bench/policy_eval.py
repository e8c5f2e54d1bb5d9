"""Benchmark: evaluate Salam's Rego policies (regopy / rego-cpp) against 1,000 job inputs.

Renders the committed prod environment, then builds 1,000 per-job inputs by cycling its seven
plans (job names made unique) and evaluates every ``salam.job`` package for each, as
``reconcile validate`` does. Reports the one-off compile (modules + data + bundle), the whole
run, the mean and p95 per input, and the cost of one package family on its own (secrets is the
expensive one: it walks the config and the plan).

Usage: ``.venv/bin/python bench/policy_eval.py [--inputs N]``; prints a Markdown table.
"""

from __future__ import annotations

import argparse
import copy
import platform
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from ingestion.config import loader
from ingestion.config.diagnostics import Severity
from ingestion.plan import environment as plans
from reconciler import policy
from reconciler.policy import evaluation, rego

ROOT = Path(__file__).resolve().parent.parent


def inputs(count: int) -> list[dict[str, Any]]:
    environment = loader.load_environment(ROOT, "prod", [])
    rendered = plans.render_all(environment, with_git=False)
    settings = rego.plain(environment.settings)
    jobs = list(environment.jobs)
    docs = []
    for i in range(count):
        job = jobs[i % len(jobs)]
        plan = copy.deepcopy(rendered[job.name])
        plan["job"] = f"{job.name}_{i}"
        docs.append(rego.plain(evaluation.job_input("prod", settings, job.data, plan)))
    return docs


def run(directory: Path, docs: list[dict[str, Any]]) -> tuple[float, float, list[float], int]:
    """Compile once, evaluate every input: compile s, total s, per-input s, deny count."""
    started = time.perf_counter()
    bundle = rego.Bundle(directory, policy.load_params(directory, "prod"))
    compile_s = time.perf_counter() - started
    times, denies = [], 0
    started = time.perf_counter()
    for doc in docs:
        t0 = time.perf_counter()
        decision = evaluation.evaluate_input(bundle, rego.JOB_ENTRYPOINT, doc, doc["plan"]["job"])
        times.append(time.perf_counter() - t0)
        denies += sum(v.severity is Severity.ERROR for v in decision.violations)
    return compile_s, time.perf_counter() - started, sorted(times), denies


def row(label: str, result: tuple[float, float, list[float], int]) -> str:
    compile_s, total, times, _ = result
    p95 = times[int(len(times) * 0.95) - 1]
    return (
        f"| {label} | {compile_s * 1000:.1f} ms | {total:.2f} s "
        f"| {statistics.mean(times) * 1000:.2f} ms | {p95 * 1000:.2f} ms |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=int, default=1000)
    args = parser.parse_args()
    docs = inputs(args.inputs)
    full = run(ROOT / "policies", docs)
    with tempfile.TemporaryDirectory() as tmp:
        copy_dir = Path(tmp) / "policies"
        shutil.copytree(ROOT / "policies", copy_dir)
        (copy_dir / "job" / "secrets.rego").unlink()
        without_secrets = run(copy_dir, docs)
    print(
        f"Machine: {platform.machine()} ({platform.processor() or 'cpu'}), "
        f"{platform.python_implementation()} {platform.python_version()}; "
        f"{args.inputs} inputs; {full[3]} denies"
    )
    print()
    print("| policies | compile | total | per input, mean | per input, p95 |")
    print("|---|---|---|---|---|")
    print(row("all shipped", full))
    print(row("without salam.job.secrets", without_secrets))


if __name__ == "__main__":
    main()
