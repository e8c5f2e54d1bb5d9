"""What a message may quote: never a value at a secret-bearing key, never one shaped like a
secret (:func:`ingestion.config.secrets.shown`), and ordinary config values as they are."""

from __future__ import annotations

import random
import string

import pytest

from ingestion.config import secrets

SECRET_SHAPED = [
    "xoxb-4242424242-abcdefghijkl",
    "ghp_" + "a1B2" * 9,
    "AKIAIOSFODNN7EXAMPLE",
    "-----BEGIN PRIVATE KEY-----\nMIIEvQ\n-----END PRIVATE KEY-----",
    "-----BEGIN OPENSSH PRIVATE KEY-----",
    "https://ops:hunter2@tz.example.org/x",
    "jdbc:postgresql://db:5432/x?password=hunter2",
    "3f1a47c1d35c5f7258512d1a3b6ae3ab6701091949e032bd77f2ad797fc08d35",
    "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
]
ORDINARY = [
    "Asia/Kolkata",
    "America/Argentina/ComodRivadavia",
    "salam-prod-network_events",
    "usage_records_incremental_2024",
    "IngestionWorkflowV2Handler",
    "/usr/share/java/postgresql-42.6.0.jar",
    "spark.sql.parquet.outputTimestampType=TIMESTAMP_MICROS",
    "jdbc:postgresql://bss.prod.internal:5432/miniboss",
    "30 3 * * 1-5",
    "informatika",
    "",
]


@pytest.mark.parametrize("value", SECRET_SHAPED)
def test_secret_shaped_values_are_never_quoted(value: str) -> None:
    assert secrets.looks_secret(value)
    assert secrets.shown(value, ("target", "namespace")) == ""


@pytest.mark.parametrize("value", ORDINARY)
def test_ordinary_values_are_quoted(value: str) -> None:
    assert not secrets.looks_secret(value)
    assert secrets.shown(value, ("runtime", "orchestration", "mode")) == repr(value)


@pytest.mark.parametrize(
    "path", [("source", "password_ref"), ("alerts", "webhook"), ("temporal", "api_key")]
)
def test_nothing_at_a_secret_bearing_key_is_quoted(path: tuple[str, ...]) -> None:
    assert secrets.shown("env:FINE", path) == ""
    assert secrets.shown(42, path) == ""


def test_random_tokens_are_recognised() -> None:
    # urlsafe-base64 and hex tokens of 32 and 40 characters, from a fixed seed
    rng = random.Random(13)
    alphabets = (string.ascii_letters + string.digits + "-_", string.hexdigits.lower()[:16])
    tokens = [
        "".join(rng.choice(alphabet) for _ in range(length))
        for alphabet in alphabets
        for length in (32, 40)
        for _ in range(250)
    ]
    missed = [token for token in tokens if not secrets.looks_secret(token)]
    assert len(missed) <= len(tokens) // 50, missed


def test_containers_and_long_values() -> None:
    assert secrets.shown({"a": 1}) == "" and secrets.shown([1]) == ""
    assert secrets.shown(5) == "5" and secrets.shown(None) == "None"
    assert secrets.shown("x" * 100) == repr("x" * 56)[:-1] + "..."
