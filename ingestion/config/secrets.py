"""Secret references and the detection of literal secrets in configs.

Secrets are never values in a config: ``env:NAME``, ``file:/path``, ``vault:path#key`` and
``k8s-secret:name/key`` are the only forms. :func:`find_literals` walks a parsed config and
reports every value that looks like a secret (a password, token, webhook URL, or a JDBC URL or the
lake catalog's URI with credentials), naming its location but never echoing the value.
:func:`shown` is the one rule every diagnostic follows before quoting a value: never one at a
secret-bearing key, never one shaped like a secret (a token, a PEM block, a URL with
credentials, a long random-looking string).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ingestion.config.diagnostics import Diagnostic, json_path

if TYPE_CHECKING:  # yamlsource quotes keys through this module, so it imports it at run time
    from ingestion.config.yamlsource import PathKey, SourceDoc

REFERENCE = re.compile(
    r"^(env:[A-Za-z_][A-Za-z0-9_]*|file:/\S+|vault:[^#\s]+#[^#\s]+"
    r"|k8s-secret:[a-z0-9]([a-z0-9.-]*[a-z0-9])?/[A-Za-z0-9._-]+)$"
)
SECRET_KEY = re.compile(
    r"(pass(word|wd)?|secret|token|api_?key|private_?key|credentials?|webhook|auth)(_ref)?$",
    re.IGNORECASE,
)
_NOT_SECRET_KEYS = {"credentials_secret"}
_CATALOG_URI = ("lake", "catalog", "uri")
_JDBC_CREDENTIALS = (
    re.compile(r"://[^/@\s:]+:[^/@\s]+@"),
    re.compile(r"[?&;](password|pwd|passwd|user_?password)=", re.IGNORECASE),
    re.compile(r"^jdbc:oracle:thin:[^@/\s]+/[^@\s]+@", re.IGNORECASE),
)
_TOKEN_SHAPES = (
    re.compile(r"hooks\.slack\.com/services/[A-Za-z0-9]"),
    re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{8,}"),
    re.compile(r"\bAKIA[0-9A-Z]{16}\b"),
    re.compile(r"\bgh[pousr]_[A-Za-z0-9]{20,}"),
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
)
_NEVER_QUOTED = (
    *_TOKEN_SHAPES,
    re.compile(r"-----BEGIN [A-Z0-9 ]+-----"),
    re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/@\s:]+:[^/@\s]*@"),
)
_WORD = re.compile(r"[A-Za-z0-9+/=_-]{20,}")
_SHOWN_LENGTH = 60


def is_reference(value: object) -> bool:
    return isinstance(value, str) and bool(REFERENCE.match(value))


def is_secret_key(key: object) -> bool:
    return isinstance(key, str) and key not in _NOT_SECRET_KEYS and bool(SECRET_KEY.search(key))


def has_jdbc_credentials(url: str) -> bool:
    return any(pattern.search(url) for pattern in _JDBC_CREDENTIALS)


def looks_secret(text: str) -> bool:
    """True when ``text`` is shaped like a secret: a token, a PEM block, a URL (JDBC or not)
    carrying credentials, or a long random-looking string (an API key, a hex or base64 secret)."""
    return (
        any(pattern.search(text) for pattern in _NEVER_QUOTED)
        or has_jdbc_credentials(text)
        or any(_random(word) for word in _WORD.findall(text))
    )


def shown(value: object, path: PathKey = ()) -> str:
    """``value`` as a message may quote it (a short ``repr``), or ``""`` when it must not be:
    under a secret-bearing key, shaped like a secret, a mapping or list (which may hold one) or
    bytes (a YAML ``!!binary``)."""
    if isinstance(value, dict | list | bytes) or any(is_secret_key(part) for part in path):
        return ""
    if isinstance(value, str) and looks_secret(value):
        return ""
    text = repr(value)
    return text if len(text) <= _SHOWN_LENGTH else text[: _SHOWN_LENGTH - 3] + "..."


def _random(word: str) -> bool:
    """A long word whose characters switch class (lower, upper, digit) like random text does:
    tokens and keys do, identifiers (``GetAccountAuditLog``, ``usage_records_2024``) do not."""
    core = re.sub(r"[^A-Za-z0-9]", "", word)
    classes = [_char_class(c) for c in core]
    if len(core) < 16 or len(set(classes)) < 2:
        return False
    if len(core) >= 32 and re.fullmatch(r"[0-9a-f]+|[0-9A-F]+", core):
        return True
    switches = sum(a != b for a, b in itertools.pairwise(classes))
    lower_runs = re.findall(r"[a-z]+", core)
    mean_lower_run = sum(map(len, lower_runs)) / len(lower_runs) if lower_runs else 0.0
    return switches / (len(core) - 1) >= 0.35 and mean_lower_run < 3


def _char_class(char: str) -> int:
    return 0 if char.islower() else 1 if char.isupper() else 2


def _connection_url(path: PathKey, value: str) -> tuple[str, str] | None:
    """What refusing credentials in ``value`` says, when it is a connection URL: a JDBC URL
    anywhere, or the lake catalog's ``uri`` (one check, :func:`has_jdbc_credentials`, for both)."""
    if value.startswith("jdbc:"):
        return (
            "JDBC URL carries credentials",
            "remove them from the URL; use `user` and `password_ref`",
        )
    if tuple(path[-3:]) == _CATALOG_URI:
        return (
            "lake catalog URI carries credentials",
            "remove them from the URI; use `lake.catalog.user` and `lake.catalog.password_ref`",
        )
    return None


def find_literals(doc: SourceDoc) -> list[Diagnostic]:
    """Every literal secret in ``doc``, located, with its value never shown."""
    return [
        Diagnostic("literal-secret", summary, doc.locate(path), json_path(path), hint)
        for path, summary, hint in _walk(doc.data, ())
    ]


def _walk(value: Any, path: PathKey) -> Iterator[tuple[PathKey, str, str]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _walk(item, (*path, key))
        return
    if isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, (*path, index))
        return
    if not isinstance(value, str) or is_reference(value):
        return
    finding = _classify(path, value)
    if finding:
        yield (path, *finding)


def _classify(path: PathKey, value: str) -> tuple[str, str] | None:
    key = path[-1] if path and isinstance(path[-1], str) else ""
    ref_hint = (
        "store it in the secrets store and write a reference (env:, file:, vault:, k8s-secret:)"
    )
    url = _connection_url(path, value)
    if url and has_jdbc_credentials(value):
        return url
    if is_secret_key(key) and value:
        return f"'{key}' holds a literal secret, not a reference", ref_hint
    if any(pattern.search(value) for pattern in _TOKEN_SHAPES):
        return "value looks like a token or secret URL", ref_hint
    return None
