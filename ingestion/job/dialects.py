"""What differs between JDBC sources: the clock query, timestamp literals, identifier quoting.

PostgreSQL, MySQL / MariaDB, SQLite and Oracle. Every clock query returns the database's current
UTC time as text, so the window's upper bound comes from the source clock, not this machine's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from ingestion.job.errors import JobError, RunExit

_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Dialect:
    name: str
    now_sql: str
    quote_char: str = '"'

    def quote(self, identifier: str) -> str:
        """Quote the parts of an identifier that need it (plain names keep the DB's folding)."""
        q = self.quote_char
        return ".".join(
            part if _PLAIN.match(part) else f"{q}{part.replace(q, q + q)}{q}"
            for part in identifier.split(".")
        )

    def literal(self, value: datetime) -> str:
        """A timestamp literal for a cursor comparison (``value`` is UTC)."""
        value = value.astimezone(UTC)
        if self.name == "postgresql":
            return f"'{value:%Y-%m-%d %H:%M:%S.%f}+00'"
        if self.name == "oracle":
            return f"TIMESTAMP '{value:%Y-%m-%d %H:%M:%S.%f}'"
        if self.name == "sqlite":
            return f"'{sqlite_text(value)}'"
        return f"'{value:%Y-%m-%d %H:%M:%S.%f}'"


def sqlite_text(value: datetime) -> str:
    """SQLite stores timestamps as text compared as strings: match ``YYYY-MM-DD HH:MM:SS[.fff]``."""
    text = f"{value:%Y-%m-%d %H:%M:%S}"
    return f"{text}.{value.microsecond:06d}".rstrip("0") if value.microsecond else text


DIALECTS = {
    "postgresql": Dialect(
        "postgresql", "SELECT CAST(timezone('UTC', clock_timestamp()) AS varchar) AS now"
    ),
    "mysql": Dialect(
        "mysql", "SELECT DATE_FORMAT(UTC_TIMESTAMP(6), '%Y-%m-%d %H:%i:%s.%f') AS now", "`"
    ),
    "mariadb": Dialect(
        "mariadb", "SELECT DATE_FORMAT(UTC_TIMESTAMP(6), '%Y-%m-%d %H:%i:%s.%f') AS now", "`"
    ),
    "sqlite": Dialect("sqlite", "SELECT strftime('%Y-%m-%d %H:%M:%f', 'now') AS now"),
    "oracle": Dialect(
        "oracle",
        "SELECT TO_CHAR(SYS_EXTRACT_UTC(SYSTIMESTAMP), 'YYYY-MM-DD HH24:MI:SS.FF6') AS now"
        " FROM dual",
    ),
}


def for_url(jdbc_url: str) -> Dialect:
    """The dialect of ``jdbc:<subprotocol>:…``."""
    sub = jdbc_url.split(":", 2)[1] if jdbc_url.count(":") >= 2 else ""
    if sub in DIALECTS:
        return DIALECTS[sub]
    known = ", ".join(sorted(DIALECTS))
    raise JobError(
        "config", f"no dialect for JDBC subprotocol '{sub}'", f"supported: {known}", RunExit.INVALID
    )


def parse_clock(text: str) -> datetime:
    """Parse a clock query's ``YYYY-MM-DD HH:MM:SS[.ffffff]`` text as UTC."""
    text = text.strip().replace("T", " ")
    if "." in text:
        head, frac = text.split(".", 1)
        text = f"{head}.{(frac + '000000')[:6]}"
    fmt = "%Y-%m-%d %H:%M:%S.%f" if "." in text else "%Y-%m-%d %H:%M:%S"
    return datetime.strptime(text, fmt).replace(tzinfo=UTC)
