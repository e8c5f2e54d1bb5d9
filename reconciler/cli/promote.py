"""``reconcile promote --from uat --to prod [--dry-run]``: carry what uat ran into prod's files;
``reconcile promote --image dist/image.json --to dev``: pin a build into the first environment.

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
from reconciler.cli.compare import ToOption

if TYPE_CHECKING:
    from reconciler.promotion import promote
else:
    promote = lazy.module("reconciler.promotion.promote")

FromOption = Annotated[
    str | None, typer.Option("--from", help="The environment promoted from (or --image).")
]
ImageOption = Annotated[
    Path | None,
    typer.Option(
        "--image",
        help="Pin this build instead: the image record scripts/build.sh wrote (dist/image.json).",
    ),
]
DryRunOption = Annotated[bool, typer.Option("--dry-run", help="Write nothing; show the change.")]
ReleaseOption = Annotated[
    Path | None,
    typer.Option(
        "--release",
        help="The source's release record (default: the one its last apply left in the state dir).",
    ),
]


def command(
    to_env: ToOption,
    from_env: FromOption = None,
    image: ImageOption = None,
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
        try:
            promotion = _prepare(project, to_env, from_env, image, release_file)
        except promote.Refused as exc:
            raise common.CommandError(str(exc), exc.hint) from exc
        if not dry_run:
            promote.write(project, promotion)
        report.document.update(document(promotion, dry_run))
        report.finish(ExitCode.OK, text(promotion, dry_run))

    common.run(report, body, debug)


def _prepare(
    project: Path, to_env: str, from_env: str | None, image: Path | None, release: Path | None
) -> promote.Promotion:
    if image is not None and from_env is None:
        return promote.prepare_build(project, to_env, image)
    if from_env is not None and image is None:
        record = release or promote.default_release(project, from_env)
        return promote.prepare(project, from_env, to_env, record)
    raise common.CommandError(
        "say what to promote: --from ENV (what it ran) or --image FILE (a build), one of them",
        "reconcile promote --from uat --to prod, or --image dist/image.json --to dev",
        ExitCode.USAGE,
    )


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
    out = Text(
        f"Promoting {promotion.source} -> {promotion.target}: {promotion.origin}.\n", style="bold"
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
