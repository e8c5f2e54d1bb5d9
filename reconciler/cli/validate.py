"""``reconcile validate --env E``: schema, cross-field checks and plans, all errors at once."""

from __future__ import annotations

from typing import NoReturn

from rich.text import Text

from ingestion.exitcodes import ExitCode
from ingestion.plan import environment as plans
from reconciler import policy
from reconciler.cli import common


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
        environment = common.load(report, root, env, set_)
        rendered = plans.render_all(environment, with_git=False)
        report.document.update({"environment": env, "jobs": sorted(rendered)})
        report.diagnostics.extend(policy.enforce(environment, rendered, fail_on_warn))
        text = Text(
            f"Environment '{env}' is valid: {len(rendered)} job(s), {len(rendered)} plan(s).\n",
            style="green",
        )
        report.finish(ExitCode.OK, text)

    common.run(report, body, debug)
