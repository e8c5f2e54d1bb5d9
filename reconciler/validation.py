"""Every problem of an environment at once: the loader's, and the policies' on the jobs that loaded.

:func:`ingestion.config.loader.load_environment` raises
:class:`~ingestion.config.loader.InvalidEnvironment` with the schema, cross-field and uniqueness
errors of every file, and the jobs that loaded cleanly. ``reconcile validate`` and the engine's
load step hand it to :func:`every_problem`, which renders those jobs and runs the policies on
them, so one run shows the policy denials of the valid jobs beside the errors of the broken
ones (exit 3). When ``environment.yaml`` itself is broken nothing is rendered: every job
depends on it. ``reconcile validate`` adds :func:`spark_files`: the environment's jars and
py-files checked against its ``spark.lock`` (:mod:`reconciler.checksums`); the engine does not
read them (the machine that applies schedules need not hold the files Spark runs with).
"""

from __future__ import annotations

from ingestion.config import loader
from ingestion.config.diagnostics import ConfigError, Diagnostic, Location, Severity
from ingestion.plan import environment as plans_of
from reconciler import checksums, policy
from reconciler.policy.files import POLICY_DIR


def every_problem(invalid: loader.InvalidEnvironment, files: bool = False) -> ConfigError:
    """The loader's diagnostics plus the policy findings (denies and warnings) of the jobs
    that loaded cleanly, and with ``files`` the Spark files' (:func:`spark_files`)."""
    valid = invalid.valid
    if valid is None:
        return invalid
    plans = plans_of.render_all(valid, with_git=False)
    try:
        found = policy.evaluate(valid, plans)
    except policy.PolicyError as exc:  # the config errors still stand: show them, and why
        found = [_not_evaluated(exc)]
    checked = spark_files(valid) if files else []
    return ConfigError([*invalid.diagnostics, *found, *checked])


def spark_files(environment: loader.Environment) -> list[Diagnostic]:
    """Every jar and py-file that is unlocked, changed, or unreadable here (an error, or a
    warning where ``spark.unreadable_files`` says so), and every unused lock entry."""
    return checksums.check(environment)


def _not_evaluated(exc: policy.PolicyError) -> Diagnostic:
    return Diagnostic(
        "policy-not-evaluated",
        f"the policies could not be evaluated: {exc.message}",
        Location(POLICY_DIR),
        hint=exc.hint,
        severity=Severity.WARNING,
    )
