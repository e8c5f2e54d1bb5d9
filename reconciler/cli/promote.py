"""``reconcile promote --from uat --to prod [--dry-run]``: carry what uat ran into prod's files.

Reads the source's release record (the one its last clean apply left in the state dir, or
``--release FILE``, e.g. the CI artifact of that apply) and writes, as one change to review
and commit: the target's image digest (environment.yaml and kustomize overlay), its job files
(the source's definitions with the target's bindings), its re-rendered plans and the promotion
record ``manifests/releases/<to>.json`` (:mod:`reconciler.promotion.promote`). ``--dry-run``
writes nothing and shows the same. Refused (exit 1, nothing written) when the source did not
run what would be promoted; exit 3 when the target's config or policies refuse the result.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.text import Text

from ingestion.exitcodes import ExitCode
from reconciler.cli import common, lazy
from reconciler.cli.compare import FromOption, ToOption

if TYPE_CHECKING:
    from reconciler.promotion import promote
else:
    promote = lazy.module("reconciler.promotion.promote")

DryRunOption = Annotated[bool, typer.Option("--dry-run", help="Write nothing; show the change.")]
ReleaseOption = Annotated[
    Path | None,
    typer.Option(
        "--release",
        help="The source's release record (default: the one its last apply left in the state dir).",
    ),
]


def command(
    from_env: FromOption,
    to_env: ToOption,
    dry_run: DryRunOption = False,
    release_file: ReleaseOption = None,
    output: common.OutputOption = common.Format.TEXT,
    root: common.RootOption = None,
    debug: common.DebugOption = False,
) -> None:
    """Promote what one environment ran (image digest, jobs, plans) into the next one's files."""
    report = common.Report("promote", output)

    def body() -> NoReturn:
        project = common.project_root(root)
        record = release_file or promote.default_release(project, from_env)
        try:
            promotion = promote.prepare(project, from_env, to_env, record)
        except promote.Refused as exc:
            raise common.CommandError(str(exc), exc.hint) from exc
        if not dry_run:
            promote.write(project, promotion)
        report.document.update(document(promotion, dry_run))
        report.finish(ExitCode.OK, text(promotion, dry_run))

    common.run(report, body, debug)


def document(promotion: promote.Promotion, dry_run: bool) -> dict[str, object]:
    return {
        "from": promotion.source,
        "to": promotion.target,
        "dry_run": dry_run,
        "digest": {"before": promotion.digests[0], "after": promotion.digests[1]},
        "changed": [{"path": f.path.as_posix(), "action": _action(f)} for f in promotion.changed],
        "record": dict(promotion.record),
    }


def text(promotion: promote.Promotion, dry_run: bool) -> Text:
    ran = promotion.ran
    out = Text(
        f"Promoting {promotion.source} -> {promotion.target}: what {promotion.source} ran at "
        f"revision {(ran.revision or '-')[:12]} ({ran.time}, {len(ran.plans)} plan(s)).\n",
        style="bold",
    )
    before, after = promotion.digests
    same = " (unchanged)" if before == after else f" (was {before})"
    out.append(f"  image: {after}{same}\n")
    for change in promotion.changed:
        out.append(f"  {_symbol(change)} {change.path.as_posix()}\n")
    count = len(promotion.changed)
    if dry_run:
        out.append(f"Dry run: {count} file(s) would change; nothing written.\n", style="yellow")
    else:
        out.append(
            f"Wrote {count} file(s): review them and commit them as one change.\n", style="green"
        )
    return out


def _action(change: promote.FileChange) -> str:
    return "create" if change.before is None else "delete" if change.after is None else "update"


def _symbol(change: promote.FileChange) -> str:
    return {"create": "+", "delete": "-", "update": "~"}[_action(change)]
