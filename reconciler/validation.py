"""Every problem of an environment at once: the loader's, and the policies' on the jobs that loaded.

:func:`ingestion.config.loader.load_environment` raises
:class:`~ingestion.config.loader.InvalidEnvironment` with the schema, cross-field and uniqueness
errors of every file, and the jobs that loaded cleanly. ``reconcile validate`` and the engine's
load step hand it to :func:`every_problem`, which renders those jobs and runs the policies on
them, so one run shows the policy denials of the valid jobs beside the errors of the broken
ones (exit 3). When ``environment.yaml`` itself is broken nothing is rendered: every job
depends on it.
"""

from __future__ import annotations

from ingestion.config import loader
from ingestion.config.diagnostics import ConfigError, Diagnostic, Location, Severity
from ingestion.plan import environment as plans_of
from reconciler import policy
from reconciler.policy.files import POLICY_DIR


def every_problem(invalid: loader.InvalidEnvironment) -> ConfigError:
    """The loader's diagnostics plus the policy findings (denies and warnings) of the jobs
    that loaded cleanly."""
    valid = invalid.valid
    if valid is None:
        return invalid
    plans = plans_of.render_all(valid, with_git=False)
    try:
        found = policy.evaluate(valid, plans)
    except policy.PolicyError as exc:  # the config errors still stand: show them, and why
        found = [_not_evaluated(exc)]
    return ConfigError([*invalid.diagnostics, *found])


def _not_evaluated(exc: policy.PolicyError) -> Diagnostic:
    return Diagnostic(
        "policy-not-evaluated",
        f"the policies could not be evaluated: {exc.message}",
        Location(POLICY_DIR),
        hint=exc.hint,
        severity=Severity.WARNING,
    )
