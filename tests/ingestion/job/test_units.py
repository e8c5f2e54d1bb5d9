"""Pure units of the job: windows, dialect literals, error classification, credentials."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ingestion.job import credentials, dialects, errors, window
from ingestion.job.errors import JobError, RunExit

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def test_incremental_window_starts_lookback_before_the_watermark() -> None:
    last = NOW - 3 * HOUR
    win = window.plan("incremental", last, NOW, HOUR, timedelta(minutes=5))
    assert (win.kind, win.lo, win.hi) == ("incremental", last - HOUR, NOW - timedelta(minutes=5))
    assert win.watermark_after == win.hi and not win.replaces


def test_first_run_and_full_refresh_read_everything_below_hi() -> None:
    assert window.plan("incremental", None, NOW, HOUR, HOUR).kind == "initial"
    refresh = window.plan("incremental", NOW - HOUR, NOW, HOUR, timedelta(0), full_refresh=True)
    assert refresh.lo is None and refresh.replaces


def test_watermark_never_moves_back() -> None:
    ahead = NOW + HOUR  # the source clock was set back
    assert window.plan("incremental", ahead, NOW, HOUR, timedelta(0)).watermark_after == ahead
    backfill = window.plan(
        "incremental", ahead, NOW, HOUR, timedelta(0), backfill=(NOW - HOUR, NOW)
    )
    assert backfill.watermark_after == ahead and (backfill.lo, backfill.hi) == (NOW - HOUR, NOW)


def test_empty_backfill_is_invalid() -> None:
    with pytest.raises(JobError) as failure:
        window.plan("incremental", None, NOW, HOUR, HOUR, backfill=(NOW, NOW))
    assert failure.value.code == RunExit.INVALID


def test_dialect_literals_and_clock() -> None:
    value = datetime(2025, 1, 2, 3, 4, 5, 120000, tzinfo=UTC)
    assert (
        dialects.for_url("jdbc:postgresql://h/db").literal(value)
        == "'2025-01-02 03:04:05.120000+00'"
    )
    assert dialects.for_url("jdbc:sqlite:x.db").literal(value) == "'2025-01-02 03:04:05.12'"
    assert dialects.for_url("jdbc:oracle:thin:@h:1521/s").literal(value).startswith("TIMESTAMP '")
    assert dialects.for_url("jdbc:mysql://h/db").quote("my col") == "`my col`"
    assert dialects.parse_clock("2025-01-02 03:04:05.1") == value - timedelta(microseconds=20000)
    with pytest.raises(JobError):
        dialects.for_url("jdbc:db2://h/db")


def test_error_classification() -> None:
    down = errors.from_exception(
        "extract", RuntimeError("java.net.ConnectException: Connection refused"), []
    )
    missing = errors.from_exception(
        "extract", RuntimeError('ERROR: relation "x" does not exist'), []
    )
    assert down.code == RunExit.TRANSIENT and missing.code == RunExit.FAILED
    leaked = errors.from_exception(
        "extract", RuntimeError("login failed for s3cr3t-value"), ["s3cr3t-value"]
    )
    assert "s3cr3t-value" not in leaked.message


def test_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SALAM_UNIT_SECRET", "v1")
    secret_file = tmp_path / "pw"
    secret_file.write_text("v2\n")
    assert credentials.resolve("env:SALAM_UNIT_SECRET") == "v1"
    assert credentials.resolve(f"file:{secret_file}") == "v2"
    for ref in ("env:SALAM_UNIT_MISSING", f"file:{tmp_path}/none", "k8s-secret:db/password"):
        with pytest.raises(JobError) as failure:
            credentials.resolve(ref)
        assert failure.value.code == RunExit.INVALID and ref in failure.value.message


def test_copy_path_partitions_cover_the_bounds_and_nulls_and_keep_the_password_out_of_sight(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ingestion.job import copypath, direct, source
    from ingestion.job.extract import ReadPlan

    src = source.load_source(
        {"source": {"jdbc_url": "jdbc:postgresql://db:5433/bss", "user": "u", "tables": []}}
    )
    plan = ReadPlan("SELECT * FROM t", "id", 3, (1, 10))
    queries = copypath.partition_queries(plan, src)
    assert [q.split("WHERE ")[1] for q in queries] == [
        "(id >= 1 AND id < 5) OR id IS NULL",
        "id >= 5 AND id < 9",
        "id >= 9 AND id < 13",
    ]
    keyed = copypath.partition_queries(plan, src, ["id"])  # a key is never NULL
    assert keyed[0].split("WHERE ")[1] == "id >= 1 AND id < 5" and keyed[1:] == queries[1:]
    assert direct.connection_uri(src) == "postgresql://u@db:5433/bss"
    monkeypatch.setenv("SALAM_UNIT_PW", "p@ss/word")
    refd = source.load_source(
        {
            "source": {
                "jdbc_url": "jdbc:postgresql://db/bss",
                "user": "u",
                "password_ref": "env:SALAM_UNIT_PW",
                "tables": [],
            }
        }
    )
    assert direct.connection_uri(refd) == "postgresql://u:p%40ss%2Fword@db:5432/bss"
    assert "p@ss" not in repr(refd) and refd.secrets == ("p@ss/word",)


@pytest.mark.parametrize(
    ("url", "properties", "usable"),
    [
        ("jdbc:postgresql://db:5433/bss", {}, True),
        ("jdbc:postgresql://db/bss?sslmode=require", {}, True),
        ("jdbc:postgresql://[::1]:5433/bss", {}, True),
        ("jdbc:postgresql://db1:5432,db2:5432/bss", {}, False),  # several hosts: Spark JDBC
        ("jdbc:postgresql://db/bss?currentSchema=raw", {}, False),  # a parameter it cannot pass
        ("jdbc:postgresql://db/bss", {"ssl": "true"}, False),  # a JDBC property
        ("jdbc:mysql://db/bss", {}, False),
    ],
)
def test_small_queries_go_to_the_driver_only_when_they_reach_the_same_database(
    url: str, properties: dict[str, str], usable: bool
) -> None:
    from ingestion.job import direct, source

    config = {"jdbc_url": url, "user": "u", "properties": properties, "tables": []}
    src = source.load_source({"source": config})
    assert direct.usable(src) is usable
    if url.startswith("jdbc:postgresql://[::1]"):
        assert direct.connection_uri(src) == "postgresql://u@[::1]:5433/bss"
