"""Render every plan of an environment, stamped with the git revision it was rendered from:
all at once (:func:`render_all`), or each when first read (:func:`render_lazily`)."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
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
    return dict(render_lazily(environment, with_git, git))


def render_lazily(
    environment: Environment,
    with_git: bool = True,
    git: gitstamp.GitStamp | None = None,
    only: Collection[str] | None = None,
) -> Plans:
    """:func:`render_all`'s plans (of the jobs named in ``only``, when given), each rendered
    when first read."""
    if git is None and with_git:
        git = gitstamp.stamp(environment.root, f"{ENVIRONMENTS_DIR}/{environment.name}")
    return Plans(environment, git, only)


class Plans(Mapping[str, dict[str, Any]]):
    """Job name → plan, each rendered when first read, then kept. Whoever reads a plan renders
    it: the policy evaluation's threads do, so rendering (Python) runs beside the policy engine
    (rego-cpp, without the GIL) instead of before it. Each plan is read by one thread at a
    time."""

    def __init__(
        self, environment: Environment, git: gitstamp.GitStamp | None, only: Collection[str] | None
    ) -> None:
        self._environment = environment
        self._git = git
        self._jobs = {j.name: j for j in environment.jobs if only is None or j.name in only}
        self._rendered: dict[str, dict[str, Any]] = {}

    def __getitem__(self, name: str) -> dict[str, Any]:
        plan = self._rendered.get(name)
        if plan is None:
            plan = render.render(self._jobs[name], self._environment, self._git)
            self._rendered[name] = plan
        return plan

    def __contains__(self, name: object) -> bool:  # Mapping's own would render the plan
        return name in self._jobs

    def __iter__(self) -> Iterator[str]:
        return iter(self._jobs)

    def __len__(self) -> int:
        return len(self._jobs)
