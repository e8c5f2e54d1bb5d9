"""``reconcile drift --env E``: what differs between live state and config, classified; read-only.

It reads like ``reconcile --dry-run`` (never takes the apply lock, never writes to a backend),
classifies every difference (:mod:`reconciler.drift`), applies the environment's
``drift.ignore`` rules, and optionally writes Prometheus metrics (``--metrics-file``, also on
failure, with ``salam_drift_check_success 0``) and POSTs a webhook alert when there is drift
(``--webhook``). Exit codes: 0 no drift, 4 drift (accepted drift excluded), 1 error
(unreachable backend, failed webhook), 3 invalid config.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.text import Text

from ingestion.exitcodes import ExitCode
from reconciler import drift, metrics, output
from reconciler.cli import common, lazy
from reconciler.cli.reconcile import BackendOption, JobOption, options
from reconciler.drift import Finding, Kind

if TYPE_CHECKING:
    from reconciler import alerts, engine
else:
    alerts = lazy.module("reconciler.alerts")
    engine = lazy.module("reconciler.engine")

MetricsOption = Annotated[
    Path | None,
    typer.Option(
        "--metrics-file",
        help="Write Prometheus text metrics here (node-exporter textfile collector, *.prom).",
    ),
]
WebhookOption = Annotated[
    bool,
    typer.Option("--webhook", help="POST a JSON alert to drift.webhook when there is drift."),
]

_LINE = {
    Kind.MODIFIED: ("~", "yellow", "differs from config"),
    Kind.MISSING: ("+", "green", "in config, not live"),
    Kind.ORPHAN: ("-", "red", "Salam's, but its job is gone from config"),
    Kind.FOREIGN: ("!", "red", "not managed by Salam, collides with a job's name"),
    Kind.PAUSED: ("=", "yellow", "paused by an operator outside Salam"),
}


@dataclass(frozen=True)
class DriftCheck:
    """One finished check: everything the output, metrics and alert need."""

    environment: str
    revision: str | None
    backends: tuple[str, ...]
    findings: tuple[Finding, ...]
    checked: int
    notes: tuple[str, ...]
    webhook: str | None = None


def command(
    env: common.EnvOption,
    output_format: common.OutputOption = common.Format.TEXT,
    metrics_file: MetricsOption = None,
    webhook: WebhookOption = False,
    job: JobOption = None,
    backend: BackendOption = None,
    set_: common.SetOption = None,
    root: common.RootOption = None,
    debug: common.DebugOption = False,
) -> None:
    """Detect drift (read-only): exit 4 listing each difference, 0 when live matches config."""
    report = common.Report("drift", output_format)
    opts = options(root, env, set_, job=job, backend=backend, prune=True)
    common.run(report, lambda: run(report, opts, metrics_file, webhook), debug)


def run(
    report: common.Report, opts: engine.ReconcileOptions, metrics_file: Path | None, webhook: bool
) -> NoReturn:
    """Check, record metrics, alert, print; never returns."""
    started = time.monotonic()
    try:
        outcome = check(opts)
    except Exception:
        if metrics_file is not None:
            _metrics(metrics_file, opts.env, started, success=False)
        raise
    if metrics_file is not None:
        _metrics(metrics_file, opts.env, started, success=True, outcome=outcome)
    if webhook and not outcome.webhook:
        raise common.CommandError(
            "--webhook needs drift.webhook in environment.yaml",
            "set drift.webhook to a secret reference, e.g. env:SALAM_DRIFT_WEBHOOK_URL",
        )
    drifted = drift.counted(outcome.findings)
    report.document.update(document(outcome))
    report.document["metrics_file"] = str(metrics_file) if metrics_file else None
    text = findings_text(outcome)
    if webhook and drifted:
        _alert(report, outcome, text)
    report.finish(ExitCode.DIFFERENCES if drifted else ExitCode.OK, text)


def check(opts: engine.ReconcileOptions) -> DriftCheck:
    """Read, diff and classify under a read-only session; ignore rules applied."""
    try:
        with engine.prepare(opts, for_apply=False) as current:
            rules = drift.rules_of(current.environment.settings)
            findings = drift.classify(current.change_set, current.live)
            keys = {r.key for r in current.desired} | {r.key for r in current.live}
            return DriftCheck(
                opts.env,
                current.revision,
                tuple(sorted(current.backends)),
                tuple(drift.apply_ignores(findings, rules)),
                len(keys),
                tuple(current.notes),
                (current.environment.settings.get("drift") or {}).get("webhook"),
            )
    except engine.EngineError as exc:
        raise common.CommandError(str(exc), exc.hint) from exc


def document(outcome: DriftCheck) -> dict[str, object]:
    drifted = drift.counted(outcome.findings)
    return {
        "environment": outcome.environment,
        "revision": outcome.revision,
        "backends": list(outcome.backends),
        "checked": outcome.checked,
        "drift": bool(drifted),
        "summary": drift.summary(outcome.findings),
        "findings": [f.to_json() for f in drifted],
        "ignored": [f.to_json() for f in outcome.findings if not f.counts],
        "notes": list(outcome.notes),
    }


def findings_text(outcome: DriftCheck) -> Text:
    text = Text()
    for note in outcome.notes:
        text.append(f"note: {note}\n", style="dim")
    drifted = drift.counted(outcome.findings)
    accepted = [f for f in outcome.findings if not f.counts]
    if not drifted:
        text.append(
            f"No drift: environment '{outcome.environment}' matches its config "
            f"({outcome.checked} resource(s) checked).\n",
            style="green",
        )
    else:
        text.append(f"Drift in environment '{outcome.environment}':\n", style="bold")
        for finding in drifted:
            text.append_text(finding_text(finding))
    if accepted:
        text.append("Accepted drift (drift.ignore):\n", style="dim")
        for finding in accepted:
            text.append(
                f"  {finding.kind.value} {finding.key}: {'; '.join(finding.reasons)}\n",
                style="dim",
            )
    if drifted:
        counts = drift.summary(outcome.findings)
        text.append(", ".join(f"{n} {kind}" for kind, n in counts.items()) + ".\n", style="bold")
    return text


def finding_text(finding: Finding) -> Text:
    symbol, style, meaning = _LINE[finding.kind]
    if finding.kind is Kind.PAUSED and finding.fields:
        meaning += "; the next apply resumes it (the config says so)"
    text = Text()
    text.append(f"  {symbol} {finding.kind.value:<8} {finding.key}", style=style)
    applied = f", applied from {finding.live_revision}" if finding.live_revision else ""
    text.append(f"  (job {finding.job}{applied}): {meaning}\n", style="dim")
    if finding.note:
        text.append(f"      note: {finding.note}\n", style="dim")
    for change in finding.fields:
        text.append(
            f"      ~ {change.path}: live {output.value(change.before)}, "
            f"config {output.value(change.after)}\n",
            style="yellow",
        )
    for change in finding.ignored_fields:
        text.append(f"      (ignored) {change.path}: {'; '.join(finding.reasons)}\n", style="dim")
    return text


def _metrics(
    path: Path, env: str, started: float, success: bool, outcome: DriftCheck | None = None
) -> None:
    metrics.write(
        path,
        metrics.Check(
            environment=env,
            ended=time.time(),
            duration=time.monotonic() - started,
            success=success,
            backends=outcome.backends if outcome else (),
            findings=outcome.findings if outcome else (),
        ),
    )


def _alert(report: common.Report, outcome: DriftCheck, text: Text) -> None:
    """POST the alert; on failure print the findings, then fail with exit 1."""
    assert outcome.webhook is not None
    try:
        status = alerts.post(
            outcome.webhook, alerts.body(outcome.environment, outcome.revision, outcome.findings)
        )
    except alerts.AlertError as exc:
        report.document["webhook"] = {"sent": False, "error": str(exc)}
        if report.fmt is common.Format.TEXT:
            output.console().print(text, end="")
        report.fail(str(exc), "check drift.webhook and that the receiver is up", ExitCode.ERROR)
    report.document["webhook"] = {"sent": True, "status": status}
    text.append(f"Alert sent to the drift webhook (HTTP {status}).\n", style="dim")
