"""The lake catalog's credentials: a password in ``lake.catalog.uri`` is refused exactly like one
in a JDBC URL (the same check, the same code), and ``lake.catalog.password_ref`` is accepted."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import run_reconcile

SECRET = "Tz-CatalogPw-991"
LITERAL_URI = f"postgresql+psycopg://lake:{SECRET}@db.internal:5432/lake"
SQLITE = "jdbc:sqlite:.salam/source/miniboss_bss.db"
URI_LINE = "    uri: sqlite:///.salam/lake/catalog.db\n"


def _catalog(root: Path, lines: str) -> str:
    """Replace dev's catalog ``uri:`` line by ``lines``; the ``line:column`` of the first."""
    settings = root / "environments" / "dev" / "environment.yaml"
    text = settings.read_text()
    assert URI_LINE in text
    settings.write_text(text.replace(URI_LINE, lines))
    return f"{text[: text.index(URI_LINE)].count(chr(10)) + 1}:5"


@pytest.mark.parametrize(
    "uri", [LITERAL_URI, f"postgresql+psycopg://db.internal/lake?password={SECRET}"]
)
def test_a_password_in_the_catalog_uri_is_refused_like_one_in_a_jdbc_url(
    project: Callable[..., Path], uri: str
) -> None:
    root = project("dev")
    at = _catalog(root, f"    uri: {uri}\n")
    job = root / "environments" / "dev" / "jobs" / "payments.yaml"
    job.write_text(job.read_text().replace(SQLITE, f"jdbc:postgresql://u:{SECRET}@db/x"))

    result = run_reconcile("validate", "--env", "dev", "--root", str(root))

    assert result.exit_code == 3
    assert (
        f"environments/dev/environment.yaml:{at}: error[literal-secret] $.lake.catalog.uri: "
        "lake catalog URI carries credentials (hint: remove them from the URI; use "
        "`lake.catalog.user` and `lake.catalog.password_ref`)"
    ) in result.stderr.splitlines()
    assert "error[literal-secret] $.source.jdbc_url: JDBC URL carries credentials" in result.stderr
    assert SECRET not in result.stdout + result.stderr


def test_a_password_in_the_catalog_uri_given_with_set_is_refused(
    project: Callable[..., Path],
) -> None:
    root = project("dev")
    args = (
        "validate",
        "--env",
        "dev",
        "--root",
        str(root),
        "--set",
        f"lake.catalog.uri={LITERAL_URI}",
    )
    result = run_reconcile(*args)
    assert result.exit_code == 3
    assert "--set: error[literal-secret] $.lake.catalog.uri" in result.stderr
    assert SECRET not in result.stdout + result.stderr


def test_a_catalog_password_reference_is_accepted(project: Callable[..., Path]) -> None:
    root = project("dev")
    _catalog(
        root,
        "    uri: postgresql+psycopg://db.internal:5432/lake\n"
        "    user: lake\n    password_ref: env:SALAM_LAKE_PASSWORD\n",
    )
    assert run_reconcile("validate", "--env", "dev", "--root", str(root)).exit_code == 0


def test_a_literal_catalog_password_key_is_refused(project: Callable[..., Path]) -> None:
    root = project("dev")
    _catalog(root, f"    uri: postgresql+psycopg://db/lake\n    password_ref: {SECRET}\n")
    result = run_reconcile("validate", "--env", "dev", "--root", str(root))
    assert result.exit_code == 3
    assert "$.lake.catalog.password_ref" in result.stderr
    assert SECRET not in result.stdout + result.stderr
