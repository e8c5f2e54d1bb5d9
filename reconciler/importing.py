"""``reconcile import``: the unmarked schedules a backend holds, turned into job configs that
render the same schedules, each with ``adopt: true``; pure data, the command writes the files.

:mod:`reconciler.cli.import_` reads a backend's :class:`~reconciler.backends.base.Unmanaged`
schedules and calls :func:`propose`. Each schedule's command is recognised
(:mod:`ingestion.plan.recognise`: never guessed; an unrecognised command is reported with the
reason) and the ``--config`` it runs decides where Salam's job config comes from:

- a file under ``environments/<env>/jobs/`` (resolved after the line's ``cd``, from the project
  root): it *is* the job config; its top-level ``runtime:`` block is replaced by the imported
  one, every other line kept byte for byte (JSON: the document rewritten);
- a file anywhere else (another environment, another checkout, ``/etc/…``): reported, not
  copied. A copy would be another job: the schedule, running the old file, would not be
  recognised as the copy's to adopt, and Salam would create a second schedule beside it (a
  double run). Move the file under ``environments/<env>/jobs/`` and point the schedule at it,
  then import again;
- no such file: reported — a job config needs a source and a target, which no schedule holds.

Two schedules running one config: the first is imported, the others reported. A job that is
already Salam's is never read here (only unmarked schedules are).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ingestion.plan import recognise
from reconciler.backends.base import Unmanaged
from reconciler.model import ResourceKey

_RUNTIME = re.compile(r"^runtime:\s*(#.*)?$")
_TOP_LEVEL = re.compile(r"^[^\s#]")


@dataclass(frozen=True)
class Written:
    """One job config import writes: its path (from the project root) and whole text."""

    key: ResourceKey
    job: str
    path: str
    text: str


@dataclass(frozen=True)
class Skipped:
    key: ResourceKey
    reason: str


@dataclass(frozen=True)
class Proposal:
    written: tuple[Written, ...]
    skipped: tuple[Skipped, ...]


def propose(root: Path, env: str, found: Sequence[Unmanaged]) -> Proposal:
    """What importing ``found`` into environment ``env`` of the project at ``root`` writes."""
    written: dict[str, Written] = {}
    skipped: list[Skipped] = []
    for schedule in found:
        try:
            made = _one(root, env, schedule)
        except recognise.Unrecognised as exc:
            skipped.append(Skipped(schedule.key, f"not imported: {exc}"))
            continue
        if made.path in written:
            first = written[made.path].key
            skipped.append(Skipped(schedule.key, f"runs {made.path} too, imported from {first}"))
            continue
        written[made.path] = made
    return Proposal(tuple(written.values()), tuple(skipped))


def _one(root: Path, env: str, schedule: Unmanaged) -> Written:
    if schedule.problem:
        raise recognise.Unrecognised(schedule.problem)
    found = (
        recognise.argv(schedule.argv)
        if schedule.argv
        else recognise.command_line(schedule.command_line)
    )
    path = _path(root, env, found)
    runtime = {"orchestration": _orchestration(schedule.orchestration, found)}
    new = _with_runtime(path.read_text(encoding="utf-8"), runtime, path.suffix)
    job = _job_name(new, path)
    if schedule.key_of is not None and schedule.key_of(job) != schedule.key:
        raise recognise.Unrecognised(
            f"job {job}'s schedule would be {schedule.key_of(job)}, another object: rename "
            f"{schedule.key.name} to {schedule.key_of(job).name} first to take it over in place"
        )
    return Written(schedule.key, job, str(path.relative_to(root)), new)


def _path(root: Path, env: str, found: recognise.Recognised) -> Path:
    """The job config the schedule runs, which must be one of the environment's."""
    jobs = root / "environments" / env / "jobs"
    inside = found.config_under(str(root))
    source = root / inside if inside else Path(found.workdir or "/") / found.config
    if not source.is_file():
        raise recognise.Unrecognised(
            f"it runs {found.config}, which does not exist here; a job config needs a source and "
            "a target no schedule holds: write it, then import again"
        )
    if source.parent.resolve() != jobs.resolve():
        raise recognise.Unrecognised(
            f"it runs {found.config}, outside {jobs.relative_to(root)}/: move the config there "
            "and point the schedule at it, then import again (a copy would run twice)"
        )
    return source


def _orchestration(imported: Mapping[str, Any], found: recognise.Recognised) -> dict[str, Any]:
    """The imported orchestration with ``adopt: true``; a crontab line's log file kept."""
    mode = str(imported["mode"])
    blocks = {key: dict(value) for key, value in imported.items() if key != "mode"}
    if mode == "plain_cron" and found.log_file:
        blocks["cron"]["log_file"] = found.log_file
    return {"mode": mode, "adopt": True, **blocks}


def _with_runtime(text: str, runtime: Mapping[str, Any], suffix: str) -> str:
    """``text`` with its top-level ``runtime`` replaced; other YAML lines byte for byte."""
    if suffix == ".json":
        document = json.loads(text)
        document["runtime"] = runtime
        return json.dumps(document, indent=2) + "\n"
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if _RUNTIME.match(line.rstrip("\n"))), None)
    if start is None:
        raise recognise.Unrecognised(
            "its job config has no top-level `runtime:` block to replace: edit it by hand"
        )
    stop = next((i for i in range(start + 1, len(lines)) if _TOP_LEVEL.match(lines[i])), None)
    stop = len(lines) if stop is None else stop
    block = yaml.safe_dump({"runtime": runtime}, sort_keys=False, default_flow_style=False)
    head = "".join(lines[:start])
    return head + block + "".join(lines[stop:])


def _job_name(text: str, target: Path) -> str:
    document = yaml.safe_load(text) or {}
    return str(document.get("name") or target.stem)
