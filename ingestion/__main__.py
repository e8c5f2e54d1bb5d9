"""``python -m ingestion``: the ``ingest`` command, plus the seed's flag spelling.

``python -m ingestion --config FILE --dump-orchestration-plan`` prints the plan;
``python -m ingestion --config FILE`` runs the job (``ingest run``).
"""

from __future__ import annotations

import sys

from ingestion import cli


def translate(argv: list[str]) -> list[str]:
    """Map the seed's flags onto ``ingest`` subcommands; leave subcommand calls untouched."""
    if "--dump-orchestration-plan" in argv:
        return ["plan", *(arg for arg in argv if arg != "--dump-orchestration-plan")]
    if (
        argv
        and argv[0].startswith("-")
        and argv[0] not in ("--help", "-h", "--install-completion", "--show-completion")
    ):
        return ["run", *argv]
    return argv


if __name__ == "__main__":
    sys.argv[1:] = translate(sys.argv[1:])
    cli.main()
