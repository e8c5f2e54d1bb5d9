"""A generated environment of N plain_cron jobs with the shipped policies, for the scale bench
(``bench/scale.py``) and the policy golden test (``tests/reconciler/test_policy_golden.py``).

Deterministic: the same ``jobs`` always gives the same files. Every job is the committed dev
``subscriptions`` job cloned under its own name (own table prefix, its own minute of the hour),
in a copy of the dev ``environment.yaml`` (and its ``spark.lock``) and of ``policies/``. A few
jobs in every :data:`CYCLE` carry something the policies answer, so the findings are not empty:
an unknown owner (a warning) and literal secrets the config loader lets through but the policies'
secret scan denies (in the config, and in the plan through a Spark ``--conf``); each of those
denies is waived in ``policies/data/dev.yaml``, so the environment stays valid and a dry-run
can run against it. A near miss (strings holding the secret scan's needles without matching
its shapes) and a waiver with nothing to waive are there too.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.conftest import ROOT, clone_job

ENV = "dev"
TEMPLATE = "subscriptions"
CYCLE = 200  # one of each special job per CYCLE jobs
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJpbmdlc3Rpb24ifQ.c2lnbmF0dXJl"

# index within the cycle → (what the job's YAML gets, the rule ids its waiver names)
SPECIAL: dict[int, tuple[str, tuple[str, ...]]] = {
    7: ("owner: network-operations\n", ()),
    13: (f'description: "Reads with the header {JWT}"\n', ("SALAM-SECRET-VALUE",)),
    29: ("source:\n  properties:\n    pwd: hunter2\n", ("SALAM-SECRET-VALUE",)),
    41: (
        'description: "Mirror at ftp://reader:s3cret@mirror.example.com/x"\n',
        ("SALAM-SECRET-VALUE",),
    ),
    53: (
        'description: "See https://wiki.example.com/page?token=abc123"\n',
        ("SALAM-SECRET-VALUE",),
    ),
    67: ('description: "gh eyj akia xox = @ (needles, no secret)"\n', ()),
    89: (f"spark:\n  conf:\n    spark.hadoop.auth.header: {JWT}\n", ("SALAM-SECRET-VALUE",)),
    97: ("", ("SALAM-OWNER",)),
}


def job_name(index: int) -> str:
    return f"{TEMPLATE}_{index:05d}"


def make_project(directory: Path, jobs: int) -> Path:
    """Write the project (``environments/dev`` and ``policies/``) under ``directory``."""
    env = directory / "environments" / ENV
    (env / "jobs").mkdir(parents=True)
    for name in ("environment.yaml", "spark.lock"):
        shutil.copy(ROOT / "environments" / ENV / name, env / name)
    template = (ROOT / "environments" / ENV / "jobs" / f"{TEMPLATE}.yaml").read_text()
    for index in range(jobs):
        (env / "jobs" / f"{job_name(index)}.yaml").write_text(job_text(template, index))
    shutil.copytree(ROOT / "policies", directory / "policies")
    data = directory / "policies" / "data" / f"{ENV}.yaml"
    text = data.read_text(encoding="utf-8")
    assert "waivers: []" in text, f"{data}: expected 'waivers: []' to replace"
    data.write_text(text.replace("waivers: []", waivers(jobs)), encoding="utf-8")
    return directory


def job_text(template: str, index: int) -> str:
    """Job ``index``'s YAML: the template, renamed, at its own minute, with its extra keys."""
    text = clone_job(template, TEMPLATE, job_name(index))
    text = text.replace('expression: "0 * * * *"', f'expression: "{index % 60} * * * *"')
    extra, _ = SPECIAL.get(index % CYCLE, ("", ()))
    if extra.startswith("owner:"):
        text = text.replace("owner: bss-data-platform\n", extra)
    elif extra.startswith(("source:", "spark:")):
        head = extra.split("\n", 1)[0]
        assert text.count(f"\n{head}\n") <= 1
        text = (
            text.replace(f"\n{head}\n", f"\n{extra}", 1) if f"\n{head}\n" in text else text + extra
        )
    elif extra.startswith("description:"):
        text = "\n".join(
            extra.rstrip("\n") if line.startswith("description:") else line
            for line in text.split("\n")
        )
    return text


def waivers(jobs: int) -> str:
    """The ``waivers:`` list of the policy data: one waiver per special job that names rules."""
    lines = ["waivers:"]
    for index in range(jobs):
        _, rules = SPECIAL.get(index % CYCLE, ("", ()))
        if rules:
            lines += [
                f"  - job: {job_name(index)}",
                f"    rules: [{', '.join(rules)}]",
                f"    reason: generated scale environment, case {index % CYCLE} (DATA-{index}).",
            ]
    return "\n".join(lines) if len(lines) > 1 else "waivers: []"
