"""Exit codes shared by every Salam command (``reconcile`` and ``ingest``).

They are the same in every command and are printed in ``--help`` and the README.
"""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    OK = 0  # done / in sync
    ERROR = 1  # an error: unreachable backend, failed apply (rolled back), I/O
    USAGE = 2  # usage error (typer's own)
    INVALID = 3  # invalid config or policy denied
    DIFFERENCES = 4  # differences found (--dry-run --exit-code, drift, render --check)
    ROLLBACK_FAILED = 5  # apply failed and restoring the previous state failed too


HELP = (
    "Exit codes: 0 done / in sync, 1 error, 2 usage error, 3 invalid config or policy denied, "
    "4 differences found, 5 apply failed and rollback failed too."
)
