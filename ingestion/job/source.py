"""The job's JDBC source and tables, read from the merged job config.

Credentials are resolved here, at run time, from their references; the resolved values only
travel in the JDBC connection properties and are listed in :attr:`Source.secrets` so that every
message can be redacted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from ingestion.config import identity
from ingestion.config.durations import seconds
from ingestion.job import credentials, dialects
from ingestion.job.dialects import Dialect

DEFAULT_FETCHSIZE = 10000
APPEND, MERGE, REPLACE = "append", "merge", "replace"
DEFAULT_DISPOSITION = MERGE
NO_DELETES, DETECT = "none", "detect"


@dataclass(frozen=True)
class TableSpec:
    """One source table (or query) and where it lands."""

    source_name: str
    relation: str
    target: str
    primary_key: tuple[str, ...]
    cursor: str | None
    partition_column: str | None
    num_partitions: int | None
    predicates: tuple[str, ...]
    custom_schema: str | None
    write_disposition: str = DEFAULT_DISPOSITION
    deletes: str = NO_DELETES
    deletes_every: timedelta | None = None


@dataclass(frozen=True)
class Source:
    url: str
    driver: str
    dialect: Dialect
    fetchsize: int
    num_partitions: int | None
    user: str | None
    properties: Mapping[str, str] = field(repr=False)
    secrets: tuple[str, ...] = field(repr=False, default=())
    extract: str = "jdbc"

    def options(self) -> dict[str, str]:
        """Spark JDBC options (credentials included: never log them).

        A column without a zone (PostgreSQL ``timestamp``) is read as ``TIMESTAMP_NTZ``, so it
        lands as an Iceberg ``timestamp``; one with a zone stays ``timestamptz``.
        """
        options = {"url": self.url, "driver": self.driver, "fetchsize": str(self.fetchsize)}
        options.update(self.properties)
        options["preferTimestampNTZ"] = "true"
        return options


def load_source(data: Mapping[str, Any], root: Path | None = None) -> Source:
    """The job's source; a relative SQLite path in the JDBC URL is taken from ``root``."""
    src = data["source"]
    props = {str(k): str(v) for k, v in (src.get("properties") or {}).items()}
    secrets = []
    user = src.get("user")
    if src.get("user_ref"):
        user = credentials.resolve(src["user_ref"])
        secrets.append(user)
    if user:
        props["user"] = user
    if src.get("password_ref"):
        password = credentials.resolve(src["password_ref"])
        props["password"] = password
        secrets.append(password)
    return Source(
        url=_absolute_sqlite(str(src["jdbc_url"]), root),
        driver=src.get("driver", ""),
        dialect=dialects.for_url(src["jdbc_url"]),
        fetchsize=int(src.get("fetchsize") or DEFAULT_FETCHSIZE),
        num_partitions=src.get("num_partitions"),
        user=user if not src.get("user_ref") else None,
        properties=props,
        secrets=tuple(secrets),
        extract=str(src.get("extract", "jdbc")),
    )


def _absolute_sqlite(url: str, root: Path | None) -> str:
    prefix = "jdbc:sqlite:"
    if root is None or not url.startswith(prefix):
        return url
    path = url[len(prefix) :]
    if not path or path.startswith(("/", ":", "file:")):
        return url
    return f"{prefix}{(root / path).resolve()}"


def load_tables(data: Mapping[str, Any], dialect: Dialect) -> list[TableSpec]:
    load = data.get("load") or {}
    specs = []
    for table in data["source"]["tables"]:
        if table.get("query"):
            source_name = table["alias"]
            relation = f"({table['query']}) salam_q"
        else:
            source_name = table["name"]
            relation = dialect.quote(table["name"])
        target = identity.table_name(data.get("target"), table)  # what `validate` checks
        assert target is not None, "a loaded job config names every table"
        specs.append(
            TableSpec(
                source_name=source_name,
                relation=relation,
                target=target,
                primary_key=tuple(table["primary_key"]),
                cursor=table.get("cursor_column") or load.get("cursor_column"),
                partition_column=table.get("partition_column"),
                num_partitions=table.get("num_partitions"),
                predicates=tuple(table.get("predicates") or ()),
                custom_schema=table.get("custom_schema"),
                write_disposition=_setting(table, load, "write_disposition", DEFAULT_DISPOSITION),
                deletes=_setting(table, load, "deletes", NO_DELETES),
                deletes_every=_every(_setting(table, load, "deletes_every", "")),
            )
        )
    return specs


def _setting(table: Mapping[str, Any], load: Mapping[str, Any], key: str, default: str) -> str:
    """A per-table setting, else the job-wide one in ``load``, else ``default``."""
    return str(table.get(key) or load.get(key) or default)


def _every(text: str) -> timedelta | None:
    return timedelta(seconds=seconds(text)) if text else None
