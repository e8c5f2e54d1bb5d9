"""Small queries on a PostgreSQL source run from the driver, not as Spark jobs.

A run asks the source a few small questions before and after its read: the clock, the bounds
of the window, the cuts of a sparse window, the completeness counts. Through Spark JDBC each is
a Spark job (about 0.1 to 0.3 s on a warm engine, more under load); :func:`query` runs them with
connectorx on the driver instead (milliseconds), for a PostgreSQL source whose connection
connectorx can reproduce exactly: a JDBC URL with no parameter but ``sslmode`` and no JDBC
property but the user and password (:func:`usable`). Any other source keeps Spark JDBC, so
both paths ask the same database the same question. Rows come back as tuples of the values
Spark JDBC gives in the job's UTC session: a timestamp with a zone as a naive UTC
``datetime``, a whole ``numeric`` without the ten decimal places connectorx adds.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, quote, urlparse

import pyarrow as pa

from ingestion.job.source import Source

_CREDENTIALS = {"user", "password"}


def usable(source: Source) -> bool:
    """Whether connectorx reaches the source exactly as Spark JDBC does: PostgreSQL, one host,
    no URL parameter but ``sslmode``, no JDBC property but the user and password."""
    if source.dialect.name != "postgresql" or set(source.properties) - _CREDENTIALS:
        return False
    parsed = urlparse(source.url[len("jdbc:") :])
    try:
        one_host = bool(parsed.hostname) and "," not in parsed.netloc and parsed.port != 0
    except ValueError:  # a port that is not a number, several host:port pairs
        return False
    if not one_host or set(dict(parse_qsl(parsed.query))) - {"sslmode"}:
        return False
    try:
        import connectorx  # noqa: F401
    except ImportError:
        return False
    return True


def connection_uri(source: Source) -> str:
    """``postgresql://user:password@host:port/db`` for connectorx (a secret: never log it)."""
    parsed = urlparse(source.url[len("jdbc:") :])
    user = quote(source.properties.get("user", ""), safe="")
    password = quote(source.properties.get("password", ""), safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    params = dict(parse_qsl(parsed.query))
    query = f"?sslmode={params['sslmode']}" if "sslmode" in params else ""
    host = f"[{parsed.hostname}]" if ":" in (parsed.hostname or "") else parsed.hostname
    return f"postgresql://{auth}{host}:{parsed.port or 5432}{parsed.path}{query}"


def table(source: Source, sql: str) -> pa.Table:
    """The result of ``sql`` as an Arrow table, in connectorx's types (collected on the driver)."""
    import connectorx as cx

    result: pa.Table = cx.read_sql(connection_uri(source), sql, return_type="arrow")
    return result


def query(source: Source, sql: str) -> list[tuple[Any, ...]]:
    """The rows of ``sql`` (a small result: it is collected on the driver)."""
    rows = table(source, sql).to_pylist()
    return [tuple(_as_spark(v) for v in row.values()) for row in rows]


def _as_spark(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return Decimal(int(value))
    return value
