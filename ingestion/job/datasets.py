"""Names of the job's datasets in OpenLineage, by the spec's naming conventions.

Inputs are named from the JDBC URL (:func:`source`): PostgreSQL ``postgres://{host}:{port}`` +
``{database}.{schema}.{table}`` (schema ``public`` when the table is unqualified), MySQL /
MariaDB ``mysql://{host}:{port}`` + ``{database}.{table}``, Oracle ``oracle://{host}:{port}`` +
``{service}.{schema}.{table}`` (the schema is the user's when unqualified and the user is
known), SQLite (a local file) ``file`` + ``{absolute database path}/{table}``; a query source is
named by its alias. Outputs are Iceberg tables, named by their storage (:func:`storage`): on a
local warehouse ``file`` + the table's location path, on object storage ``s3://{bucket}`` (or
``gs://…``) + the path. Namespaces never carry user information, passwords or query strings.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

DEFAULT_PORTS = {"postgresql": 5432, "mysql": 3306, "mariadb": 3306, "oracle": 1521}
_OBJECT_STORES = {"s3": "s3", "s3a": "s3", "s3n": "s3", "gs": "gs", "gcs": "gs"}
_TNS = {key: re.compile(rf"\({key}\s*=\s*([^)\s]+)\)", re.IGNORECASE) for key in ("HOST", "PORT")}
_TNS_SERVICE = re.compile(r"\((?:SERVICE_NAME|SID)\s*=\s*([^)\s]+)\)", re.IGNORECASE)


def source(jdbc_url: str, table: str, user: str | None = None) -> tuple[str, str]:
    """``(namespace, name)`` of ``table`` read through ``jdbc_url``."""
    sub, _, rest = jdbc_url.removeprefix("jdbc:").partition(":")
    if sub == "sqlite":
        return "file", f"{rest.split('?', 1)[0]}/{table}"
    if sub == "oracle":
        return _oracle(rest, table, user)
    host, port, database = _server(rest, DEFAULT_PORTS.get(sub))
    parts = table.split(".")
    if sub == "postgresql":
        qualified = parts if len(parts) > 1 else ["public", *parts]
        return f"postgres://{host}:{port}", ".".join([database, *qualified[-2:]])
    if sub in ("mysql", "mariadb"):
        return f"mysql://{host}:{port}", ".".join(parts if len(parts) > 1 else [database, table])
    return f"{sub}://{host}:{port}" if port else f"{sub}://{host}", table


def _server(rest: str, default_port: int | None) -> tuple[str, int | None, str]:
    """Host, port and database of ``//[user[:password]@]host[:port][,host2…]/database?…``."""
    if not rest.startswith("//"):  # jdbc:postgresql:database
        return "localhost", default_port, rest.split("?", 1)[0].split(";", 1)[0]
    address = rest[2:]
    head = address.split("?", 1)[0]
    if "@" in head:  # user information (a password may hold '/'): never part of a name
        address = address[head.rindex("@") + 1 :]
    authority, _, path = address.partition("/")
    parts = urlsplit("//" + authority.split(",", 1)[0].split("?", 1)[0])  # first of the hosts
    try:
        port = parts.port or default_port
    except ValueError:
        port = default_port
    return parts.hostname or "localhost", port, path.split("?", 1)[0].split(";", 1)[0]


def _oracle(rest: str, table: str, user: str | None) -> tuple[str, str]:
    """``thin:[user/password]@[//]host:port/service``, ``…@host:port:SID`` or a TNS descriptor."""
    address = rest.rpartition("@")[2]
    if address.startswith("("):
        host = _first(_TNS["HOST"], address, "localhost")
        port, service = _first(_TNS["PORT"], address, "1521"), _first(_TNS_SERVICE, address, "")
    else:
        hostport, _, service = address.removeprefix("//").partition("/")
        host, _, port = hostport.partition(":")
        if ":" in port:  # host:port:SID
            port, _, service = port.partition(":")
        port = port or "1521"
    parts = table.split(".")
    schema = parts[:-1] or ([user.upper()] if user else [])
    return f"oracle://{host}:{port}", ".".join([service.split("?", 1)[0], *schema, parts[-1]])


def _first(pattern: re.Pattern[str], text: str, default: str) -> str:
    found = pattern.search(text)
    return found.group(1) if found else default


def storage(location: str) -> tuple[str, str]:
    """``(namespace, name)`` of a table stored at ``location`` (``file://…``, ``s3://…``, path)."""
    parts = urlsplit(location)
    if not parts.scheme or parts.scheme == "file" or len(parts.scheme) == 1:  # C:\ is a path
        return "file", parts.path if parts.scheme == "file" else location
    scheme = _OBJECT_STORES.get(parts.scheme, parts.scheme)
    host = parts.hostname or ""
    server = f"{host}:{parts.port}" if parts.port else host
    path = parts.path.lstrip("/") if scheme in _OBJECT_STORES.values() else parts.path
    return f"{scheme}://{server}", path


def default_location(warehouse: str, identifier: str) -> str:
    """Where a SQL catalog puts a new table: ``{warehouse}/{namespace}/{table}``."""
    namespace, _, table = identifier.rpartition(".")
    return f"{warehouse.rstrip('/')}/{namespace}/{table}"
