"""``reconcile lock --env E``: write environments/E/spark.lock, the sha256 of every Spark file.

Terraform's ``init`` writing ``.terraform.lock.hcl`` is the model: every jar and py-file
``environment.yaml`` references (``spark.jars``, ``spark.py_files``) is read on this machine and
its sha256 written to the lock (:mod:`ingestion.config.sparklock`), entries nothing references
are dropped. Nothing is written when a file cannot be read: exit 1 naming each one, so a lock
never holds a guess. The plans carry the locked checksums, so the next step is ``reconcile
render --env E``; commit both. Only ``environment.yaml`` must be valid: a broken job or lock
does not stop the command (the lock depends on the environment's settings alone).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, NoReturn

from rich.text import Text

from ingestion.exitcodes import ExitCode
from reconciler.cli import common, lazy
from reconciler.model import Action

if TYPE_CHECKING:
    from ingestion.config import loader, sparklock
    from reconciler import atomicfile, checksums
else:
    loader = lazy.module("ingestion.config.loader")
    sparklock = lazy.module("ingestion.config.sparklock")
    atomicfile = lazy.module("reconciler.atomicfile")
    checksums = lazy.module("reconciler.checksums")


def command(
    env: common.EnvOption,
    output: common.OutputOption = common.Format.TEXT,
    set_: common.SetOption = None,
    root: common.RootOption = None,
    debug: common.DebugOption = False,
) -> None:
    """Write the sha256 of every jar and py-file the environment references to its spark.lock."""
    report = common.Report("lock", output)

    def body() -> NoReturn:
        environment = _settings(report, root, env, set_)
        measured = checksums.measure_all(environment)
        _refuse_unreadable(measured)
        lock = loader.spark_lock(environment)
        locked = {m.path: str(m.sha256) for m in measured}
        changed = _changes(lock.checksums, locked)
        atomicfile.write(environment.root / lock.file, sparklock.dumps(env, locked).encode())
        report.document.update(
            {
                "environment": env,
                "lock_file": lock.file,
                "files": locked,
                "changed": {path: action.verb for path, action in changed.items()},
            }
        )
        report.finish(ExitCode.OK, _text(env, lock.file, locked, changed))

    common.run(report, body, debug)


def _settings(
    report: common.Report, root: common.RootOption, env: str, set_: common.SetOption
) -> loader.Environment:
    """The environment, or its usable part when only its jobs or its lock are broken."""
    try:
        return common.load(report, root, env, set_)
    except loader.InvalidEnvironment as exc:
        if exc.valid is None:  # environment.yaml itself is broken
            raise
        return exc.valid


def _refuse_unreadable(measured: list[checksums.Measured]) -> None:
    unreadable = [f"{m.path} ({m.reason})" for m in measured if m.sha256 is None]
    if unreadable:
        raise common.CommandError(
            f"cannot checksum {', '.join(unreadable)}; the lock is unchanged",
            "run where the files are (the Spark submit host, or a machine set up by "
            "scripts/setup.sh), or fix spark.jars / spark.py_files",
        )


def _changes(old: Mapping[str, str], new: Mapping[str, str]) -> dict[str, Action]:
    """Path → what writing ``new`` over ``old`` does to its entry, for the entries it changes."""
    changes = {path: Action.UPDATE for path in old.keys() & new.keys() if old[path] != new[path]}
    changes |= dict.fromkeys(new.keys() - old.keys(), Action.CREATE)
    changes |= dict.fromkeys(old.keys() - new.keys(), Action.DELETE)
    return dict(sorted(changes.items()))


def _text(env: str, file: str, locked: dict[str, str], changed: dict[str, Action]) -> Text:
    text = Text(f"Locked {len(locked)} Spark file(s) of '{env}' in {file}; ")
    text.append(f"{len(changed)} changed.\n")
    for path, action in changed.items():
        text.append(f"  {action.value} {path} {locked.get(path, '')}".rstrip() + "\n")
    if changed:
        text.append(f"Next: reconcile render --env {env}, then commit both.\n")
    return text
