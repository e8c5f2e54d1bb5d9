"""The window one run reads: ``[lo, hi)`` on the cursor column, and the watermark it commits.

* incremental, first run (no watermark) or ``--full-refresh``: everything below ``hi``
  (rows whose cursor is NULL too), ``lo`` is None;
* incremental: ``[last_hi - lookback, hi)``;
* full mode: everything, the table is replaced;
* backfill (``--from/--to``): ``[from, to)``; the watermark stays where it was.

``hi`` is the source database's clock minus the safety lag, frozen before any read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ingestion.job.errors import JobError, RunExit

FULL = "full"
INITIAL = "initial"
INCREMENTAL = "incremental"
FULL_REFRESH = "full_refresh"
BACKFILL = "backfill"


@dataclass(frozen=True)
class Window:
    kind: str
    lo: datetime | None
    hi: datetime | None
    watermark_before: datetime | None
    watermark_after: datetime | None

    @property
    def replaces(self) -> bool:
        """Whether the commit replaces the table's rows (full loads) instead of appending."""
        return self.kind in (FULL, FULL_REFRESH)

    def describe(self) -> dict[str, str | None]:
        return {
            "kind": self.kind,
            "lo": format_ts(self.lo),
            "hi": format_ts(self.hi),
            "watermark_before": format_ts(self.watermark_before),
            "watermark_after": format_ts(self.watermark_after),
        }


def plan(
    mode: str,
    last: datetime | None,
    source_now: datetime,
    lookback: timedelta,
    safety_lag: timedelta,
    full_refresh: bool = False,
    backfill: tuple[datetime, datetime] | None = None,
) -> Window:
    """The window of this run."""
    if mode == "full":
        return Window(FULL, None, None, last, source_now - safety_lag)
    if backfill:
        lo, hi = backfill
        if lo >= hi:
            raise JobError(
                "window",
                f"backfill window is empty: --from {format_ts(lo)} is not before "
                f"--to {format_ts(hi)}",
                "give --from earlier than --to",
                RunExit.INVALID,
            )
        return Window(BACKFILL, lo, hi, last, last)
    hi = source_now - safety_lag
    if last is None or full_refresh:
        return Window(FULL_REFRESH if full_refresh else INITIAL, None, hi, last, hi)
    hi = max(hi, last)  # never move the watermark backwards (e.g. a source clock set back)
    return Window(INCREMENTAL, last - lookback, hi, last, hi)


def format_ts(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_ts(text: str | None) -> datetime | None:
    """Parse a watermark or ``--from/--to`` value (ISO 8601; naive values are UTC)."""
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise JobError(
            "window",
            f"'{text}' is not an ISO 8601 timestamp",
            "write e.g. 2024-05-01T00:00:00Z",
            RunExit.INVALID,
        ) from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
