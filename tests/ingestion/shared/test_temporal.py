"""The Temporal connection settings: references resolved at connect time, errors that name the
setting and never a secret (connecting itself is exercised by the worker and backend tests
against a real Temporal dev server)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingestion.shared import temporal

KEY = "api-k3y-never-shown"


def test_defaults_without_tls_or_api_key() -> None:
    assert temporal.address({}) == "127.0.0.1:7233"
    assert temporal.tls_config({}) is None
    assert temporal.api_key({}) is None


def test_api_key_from_a_file_loses_its_trailing_newline(tmp_path: Path) -> None:
    (tmp_path / "key").write_text(f"{KEY}\n")
    assert temporal.api_key({"api_key": f"file:{tmp_path}/key"}) == KEY


def test_tls_files_are_read_exactly(tmp_path: Path) -> None:
    (tmp_path / "ca.pem").write_bytes(b"-----CA-----\n")
    config = temporal.tls_config(
        {"tls": {"server_ca": f"file:{tmp_path}/ca.pem", "server_name": "temporal.internal"}}
    )
    assert config is not None
    assert config.server_root_ca_cert == b"-----CA-----\n"
    assert config.domain == "temporal.internal" and config.client_cert is None


def test_unresolvable_references_are_connect_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SALAM_TEST_UNSET_KEY", raising=False)
    with pytest.raises(temporal.ConnectError) as raised:
        temporal.api_key({"api_key": "env:SALAM_TEST_UNSET_KEY"})
    assert str(raised.value).startswith("Temporal api_key: secret reference 'env:SALAM_TEST")
    with pytest.raises(temporal.ConnectError) as raised:
        temporal.tls_config({"tls": {"client_cert": f"file:{tmp_path}/none.pem"}})
    assert str(raised.value).startswith(f"Temporal TLS settings: secret reference 'file:{tmp_path}")
