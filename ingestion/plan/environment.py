"""Render every plan of an environment, stamped with the git revision it was rendered from."""

from __future__ import annotations

from typing import Any

from ingestion.config.loader import ENVIRONMENTS_DIR, Environment
from ingestion.plan import gitstamp, render


def render_all(
    environment: Environment, with_git: bool = True, git: gitstamp.GitStamp | None = None
) -> dict[str, dict[str, Any]]:
    """Job name → plan, for every job of ``environment`` (one git call for all of them).

    ``git`` stamps the plans with a given revision (rendering from a past commit); otherwise,
    with ``with_git``, the working tree's HEAD and dirty state are used.
    """
    if git is None and with_git:
        git = gitstamp.stamp(environment.root, f"{ENVIRONMENTS_DIR}/{environment.name}")
    return {job.name: render.render(job, environment, git) for job in environment.jobs}
