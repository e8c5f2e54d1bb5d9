"""Secret references and the detection of literal secrets in configs.

Secrets are never values in a config: ``env:NAME``, ``file:/path``, ``vault:path#key`` and
``k8s-secret:name/key`` are the only forms. :func:`find_literals` walks a parsed config and
reports every value that looks like a secret (a password, token, webhook URL or a JDBC URL with
credentials), naming its location but never echoing the value.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from ingestion.config.diagnostics import Diagnostic, json_path
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


def is_reference(value: object) -> bool:
    return isinstance(value, str) and bool(REFERENCE.match(value))


def is_secret_key(key: object) -> bool:
    return isinstance(key, str) and key not in _NOT_SECRET_KEYS and bool(SECRET_KEY.search(key))


def has_jdbc_credentials(url: str) -> bool:
    return any(pattern.search(url) for pattern in _JDBC_CREDENTIALS)


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
    if value.startswith("jdbc:") and has_jdbc_credentials(value):
        return (
            "JDBC URL carries credentials",
            "remove them from the URL; use `user` and `password_ref`",
        )
    if is_secret_key(key) and value:
        return f"'{key}' holds a literal secret, not a reference", ref_hint
    if any(pattern.search(value) for pattern in _TOKEN_SHAPES):
        return "value looks like a token or secret URL", ref_hint
    return None
