"""``reconcile validate --env E``: schema, cross-field checks, plans, policies, Spark file
checksums: every error at once.

An invalid environment still has its valid jobs rendered and checked by the policies
(:mod:`reconciler.validation`), so one run lists every problem of every job (exit 3). The jars
and py-files the plans reference must match the environment's ``spark.lock``
(:func:`reconciler.validation.spark_files`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, NoReturn

import typer
from rich.text import Text

from ingestion.config.diagnostics import ConfigError, Diagnostic, errors
from ingestion.exitcodes import ExitCode
from reconciler.cli import common, lazy

if TYPE_CHECKING:
    from ingestion.config import loader
    from ingestion.plan import environment as plans
    from reconciler import policy, validation
else:
    loader = lazy.module("ingestion.config.loader")
    plans = lazy.module("ingestion.plan.environment")
    policy = lazy.module("reconciler.policy")
    validation = lazy.module("reconciler.validation")


def command(
    env: common.EnvOption,
    output: common.OutputOption = common.Format.TEXT,
    set_: common.SetOption = None,
    root: common.RootOption = None,
    debug: common.DebugOption = False,
    fail_on_warn: common.FailOnWarnOption = False,
) -> None:
    """Validate an environment's configs and render its plans; exit 3 listing every problem."""
    report = common.Report("validate", output)

    def body() -> NoReturn:
        try:
            environment = common.load(report, root, env, set_)
        except loader.InvalidEnvironment as exc:  # add the policy findings of the valid jobs
            raise validation.every_problem(exc, files=True) from exc
        rendered = plans.render_lazily(environment, with_git=False)  # by the policy threads
        report.document.update({"environment": env, "jobs": sorted(rendered)})
        files = validation.spark_files(environment)
        decision = _decide(report, environment, rendered, fail_on_warn, files)
        if errors(files):
            raise ConfigError([*files, *decision.diagnostics])
        report.diagnostics.extend([*files, *decision.diagnostics])
        report.document["waivers"] = decision.waivers_json()
        text = Text(
            f"Environment '{env}' is valid: {len(rendered)} job(s), {len(rendered)} plan(s).\n",
            style="green",
        )
        text.append(decision.waivers_text(), style="yellow")
        report.finish(ExitCode.OK, text)

    common.run(report, body, debug)


def _decide(
    report: common.Report,
    environment: loader.Environment,
    rendered: Mapping[str, Mapping[str, object]],
    fail_on_warn: bool,
    files: list[Diagnostic],
) -> policy.PolicyReport:
    """The policies' decision; a denial raises with the Spark files' problems beside it."""
    try:
        return policy.decide(environment, rendered, fail_on_warn)
    except policy.PolicyDenied as exc:  # the waivers applied are listed beside the denials
        report.document["waivers"] = exc.report.waivers_json()
        if report.fmt is common.Format.TEXT and exc.report.waived:
            typer.echo(exc.report.waivers_text(), err=True, nl=False)
        raise ConfigError([*exc.diagnostics, *files]) from exc
