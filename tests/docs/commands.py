"""The shell commands the docs tell a person to type, as the doc test runs them.

Every fenced ``bash``/``sh``/``shell`` block of README.md and docs/**/*.md is read line by line
(backslash continuations joined, comment-only and blank lines dropped). A command's trailing
comment may state its exit code (``# exit 4: paused``); otherwise the text promises success.
Placeholders the docs use for "your environment / job / server" are filled from
:data:`PLACEHOLDERS`, and optional ``[--flags]`` are dropped, so a command runs as a reader
would first type it. Commands that need a system these machines cannot provide are listed in
:data:`EXTERNAL`, each with its reason; everything else runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

FENCE_OPEN = re.compile(r"^```(bash|sh|shell)\s*$")
HEREDOC = re.compile(r"<<-?\s*'?(\w+)'?")
STATED_EXIT = re.compile(r"#\s*exit (\d+)\s*(?::|$)")
OPTIONAL = re.compile(r"\s\[--[^\]]*\]")

# (pattern, replacement) applied in order: the docs' placeholders, as the dev environment of
# the main command fills them
PLACEHOLDERS: tuple[tuple[str, str], ...] = (
    # a job run by hand while the page's triggered workflows may still run <job> in the worker
    # (one run per job at a time: the second would exit 75)
    (
        r"ingest run --config environments/E/jobs/<job>\.yaml",
        "ingest run --config environments/dev/jobs/tariff_catalog.yaml",
    ),
    (r"environments/E/", "environments/dev/"),
    (r"--env E\b", "--env dev"),
    (r"\bingestion-E\b", "ingestion-dev"),
    (r"\bspark-ingest-E\b", "spark-ingest-dev"),
    (r"\bsalam-E-<job>", "salam-dev-usage_records"),
    (r"adhoc-<job>-", "adhoc-usage_records-"),
    (r"<job>", "usage_records"),
    (r"HOST:PORT", "$T"),
)

# commands (exact text after placeholders) that need what these machines do not have
EXTERNAL: dict[str, str] = {
    "bash scripts/main.sh": "the doc test runs it first, as the set-up of everything else",
    "bash scripts/test.sh": "it is the test suite this test is part of (CI runs it)",
    "reconcile --env prod --dry-run": "prod's Temporal server and Kubernetes cluster",
    "reconcile --env prod --dry-run --exit-code": "prod's Temporal server and Kubernetes cluster",
    "reconcile --env prod --dry-run --out change-set.json": (
        "prod's Temporal server and Kubernetes cluster"
    ),
    "reconcile apply change-set.json --yes": "a change set saved against prod (the line above)",
    "reconcile --show-completion > /etc/bash_completion.d/reconcile": (
        "writes the machine's system-wide completion folder; the per-user install runs"
    ),
    "ingest --show-completion > /etc/bash_completion.d/ingest": (
        "writes the machine's system-wide completion folder; the per-user install runs"
    ),
    "reconcile drift --env dev --metrics-file /var/lib/node_exporter/salam.prom --webhook": (
        "a node-exporter textfile folder and the webhook receiver drift.webhook names"
    ),
    "bash scripts/build.sh": (
        "builds the image as root (minutes): tests/release/conftest.py runs this very command "
        "once per CI run, and tests/release checks what it builds"
    ),
    "skopeo copy oci:dist/image:$(jq -r .tag dist/image.json) docker://registry.dev.example.com"
    "/salam/ingest:$(jq -r .tag dist/image.json)": (
        "dev's registry; tests/release/test_signing.py pushes the build to a real local registry"
    ),
    "reconcile promote --image dist/image.json --to dev --dry-run": (
        "the image the build above writes; tests/release/test_signing.py runs promote --image on it"
    ),
    "reconcile promote --image dist/image.json --to dev": (
        "the image the build above writes; tests/release/test_signing.py runs promote --image on it"
    ),
    "git diff --stat": "shows the pin the command above writes",
    "kubectl apply -k manifests/overlays/dev": "a Kubernetes cluster",
    'kubectl -n ingestion-dev create secret generic salam-git --from-literal=credentials="https:'
    '//salam-bot:$GIT_TOKEN@git.example.com"': "a Kubernetes cluster and a git host's token",
    "kubectl -n ingestion-dev rollout status deployment/salam-worker deployment/salam-controller": (
        "a Kubernetes cluster"
    ),
    "kubectl -n ingestion-dev port-forward service/salam-controller 8080:8080": (
        "a Kubernetes cluster"
    ),
}


@dataclass(frozen=True)
class Command:
    page: str
    line: int
    text: str
    expected_exit: int

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line}"


def fill(text: str) -> str:
    """``text`` with its placeholders filled and its optional flags dropped."""
    for pattern, replacement in PLACEHOLDERS:
        text = re.sub(pattern, replacement, text)
    return OPTIONAL.sub("", text).strip()


def commands(page: Path, root: Path) -> list[Command]:
    """The commands of one page, in order."""
    name = page.relative_to(root).as_posix()
    found: list[Command] = []
    pending: list[str] = []
    start = 0
    inside = False
    heredoc: list[str] = []  # the lines of a here-document, up to its terminator
    for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), start=1):
        if not inside:
            inside = bool(FENCE_OPEN.match(line))
            continue
        if line.startswith("```"):
            inside = False
            continue
        if heredoc:
            heredoc.append(line)
            if line.strip() == heredoc[0]:
                found.append(_command(name, start, "\n".join(heredoc[1:]), here=True))
                heredoc = []
            continue
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        start = start if pending else number
        if stripped.endswith("\\"):
            pending.append(stripped[:-1].strip())
            continue
        pending.append(stripped)
        opened = HEREDOC.search(stripped)
        if opened:
            heredoc = [opened.group(1), " ".join(pending)]
        else:
            found.append(_command(name, start, " ".join(pending)))
        pending = []
    return found


def _command(page: str, line: int, text: str, here: bool = False) -> Command:
    """A command; a here-document's body is kept as written (only its first line is read)."""
    first, _, rest = text.partition("\n")
    stated = STATED_EXIT.search(first)
    body = fill(_without_comment(first)) + (f"\n{rest}" if here else "")
    return Command(page, line, body, int(stated.group(1)) if stated else 0)


def _without_comment(text: str) -> str:
    """The command without its trailing ``# comment`` (a ``#`` inside quotes is kept)."""
    quote = ""
    for index, char in enumerate(text):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (index == 0 or text[index - 1].isspace()):
            return text[:index].rstrip()
    return text
