"""The one secret-reference resolver: env exactly, files without trailing line breaks, and
errors that name the reference, never a value."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ingestion.job import credentials
from ingestion.job.errors import JobError, RunExit
from ingestion.shared import references

SECRET = "s3cr3t-value-never-shown"
DENIED, IS_DIR = "Permission denied", "Is a directory"


def unresolved(reference: str) -> references.UnresolvedReference:
    with pytest.raises(references.UnresolvedReference) as raised:
        references.resolve_text(reference)
    assert SECRET not in str(raised.value)
    return raised.value


def test_env_value_is_taken_exactly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SALAM_TEST_REF", f" {SECRET}\n")
    assert references.resolve_text("env:SALAM_TEST_REF") == f" {SECRET}\n"
    assert references.resolve_bytes("env:SALAM_TEST_REF") == f" {SECRET}\n".encode()


def test_file_loses_its_trailing_line_breaks_only(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_bytes(f"  {SECRET}\r\n\n".encode())
    assert references.resolve_text(f"file:{secret}") == f"  {SECRET}"
    assert references.resolve_bytes(f"file:{secret}") == f"  {SECRET}\r\n\n".encode()


def test_unset_variable_names_the_reference(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SALAM_TEST_UNSET_REF", raising=False)
    error = unresolved("env:SALAM_TEST_UNSET_REF")
    assert str(error) == (
        "secret reference 'env:SALAM_TEST_UNSET_REF': "
        "environment variable SALAM_TEST_UNSET_REF is not set"
    )
    assert error.reference == "env:SALAM_TEST_UNSET_REF"
    assert error.hint == "export SALAM_TEST_UNSET_REF before the run"


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file_names_the_reference(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text(SECRET)
    secret.chmod(0)
    error = unresolved(f"file:{secret}")
    assert str(error) == f"secret reference 'file:{secret}': cannot read the file ({DENIED})"
    assert error.hint == "check the path and its permissions"


def test_a_directory_is_not_a_readable_secret_file(tmp_path: Path) -> None:
    error = unresolved(f"file:{tmp_path}")
    assert str(error) == f"secret reference 'file:{tmp_path}': cannot read the file ({IS_DIR})"


def test_missing_file_names_the_reference(tmp_path: Path) -> None:
    error = unresolved(f"file:{tmp_path}/none")
    assert f"'file:{tmp_path}/none'" in str(error) and "No such file or directory" in str(error)


def test_binary_file_is_not_text_and_its_bytes_are_not_quoted(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_bytes(b"\xff\xfe" + SECRET.encode())
    error = unresolved(f"file:{secret}")
    assert "not UTF-8 text" in str(error) and "0xff" not in str(error)
    assert error.__cause__ is None and error.__suppress_context__


@pytest.mark.parametrize("reference", ["vault:kv/db#password", "k8s-secret:db/password"])
def test_provider_references_are_refused(reference: str) -> None:
    error = unresolved(reference)
    assert f"secret reference '{reference}'" in str(error)
    assert "provider is not reachable from here" in str(error)
    with pytest.raises(references.UnresolvedReference):
        references.resolve_bytes(reference)


def test_a_literal_value_is_not_echoed() -> None:
    assert str(unresolved(f"https://hooks.example.org/{SECRET}")) == (
        "'https:' is not a secret reference"
    )
    assert str(unresolved(SECRET)) == "a value without a scheme is not a secret reference"


def test_the_job_adapter_makes_a_terminal_credentials_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SALAM_TEST_UNSET_REF", raising=False)
    with pytest.raises(JobError) as raised:
        credentials.resolve("env:SALAM_TEST_UNSET_REF")
    error = raised.value
    assert (error.stage, error.code) == ("credentials", RunExit.INVALID)
    assert error.hint == "export SALAM_TEST_UNSET_REF before the run"
    assert "'env:SALAM_TEST_UNSET_REF'" in error.message
