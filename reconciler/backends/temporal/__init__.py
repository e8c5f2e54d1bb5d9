"""The ``temporal`` backend: Salam's schedules on a Temporal server (importing registers it).

:mod:`connection` opens the client, :mod:`spec` turns plans and described schedules into one
canonical spec, :mod:`cron` normalises calendars, :mod:`marker` holds the ownership marker and
the updatable digest/revision, and :mod:`backend` reads and applies.
"""

from reconciler.backends.temporal.backend import TemporalBackend, TemporalOptions

__all__ = ["TemporalBackend", "TemporalOptions"]
