"""Dataset names by the OpenLineage naming conventions (tests/testdata/openlineage/README.md)."""

from __future__ import annotations

import pytest

from ingestion.job import datasets


@pytest.mark.parametrize(
    ("url", "table", "expected"),
    [
        (
            "jdbc:postgresql://127.0.0.1:5433/src_1",
            "usage_records",
            ("postgres://127.0.0.1:5433", "src_1.public.usage_records"),
        ),
        (
            "jdbc:postgresql://db.example/bss?ssl=true&password=s3cret",
            "sales.orders",
            ("postgres://db.example:5432", "bss.sales.orders"),
        ),
        ("jdbc:postgresql:bss", "t", ("postgres://localhost:5432", "bss.public.t")),
        ("jdbc:postgresql://h1:5432,h2:5433/bss", "t", ("postgres://h1:5432", "bss.public.t")),
        (
            "jdbc:mysql://app:pa/ss@db:3307/shop?useSSL=false",
            "orders",
            ("mysql://db:3307", "shop.orders"),
        ),
        ("jdbc:mariadb://db/shop", "other.orders", ("mysql://db:3306", "other.orders")),
        ("jdbc:sqlite:/srv/bss.db", "usage", ("file", "/srv/bss.db/usage")),
        (
            "jdbc:oracle:thin:@//ora:1522/BSSPDB",
            "BSS.USAGE",
            ("oracle://ora:1522", "BSSPDB.BSS.USAGE"),
        ),
        (
            "jdbc:oracle:thin:scott/tiger@ora:1521:ORCL",
            "USAGE",
            ("oracle://ora:1521", "ORCL.SCOTT.USAGE"),
        ),
        (
            "jdbc:oracle:thin:@(DESCRIPTION=(ADDRESS=(PROTOCOL=TCP)(HOST=o1)(PORT=1530))"
            "(CONNECT_DATA=(SERVICE_NAME=svc)))",
            "BSS.T",
            ("oracle://o1:1530", "svc.BSS.T"),
        ),
    ],
)
def test_sources_are_named_by_the_spec_without_credentials(
    url: str, table: str, expected: tuple[str, str]
) -> None:
    found = datasets.source(url, table, "scott")
    assert found == expected
    assert not any(secret in " ".join(found) for secret in ("s3cret", "pa/ss", "tiger", "?"))


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        ("file:///lake/wh/bss_raw/usage", ("file", "/lake/wh/bss_raw/usage")),
        ("/lake/wh/bss_raw/usage", ("file", "/lake/wh/bss_raw/usage")),
        ("s3://bucket/wh/bss_raw/usage", ("s3://bucket", "wh/bss_raw/usage")),
        ("s3a://key:secret@bucket/wh/t?x=1", ("s3://bucket", "wh/t")),
        ("hdfs://nn:8020/wh/t", ("hdfs://nn:8020", "/wh/t")),
    ],
)
def test_lake_tables_are_named_by_their_storage(location: str, expected: tuple[str, str]) -> None:
    assert datasets.storage(location) == expected


def test_a_new_table_is_named_where_the_sql_catalog_will_put_it() -> None:
    assert datasets.default_location("file:///wh/", "bss_raw.usage") == "file:///wh/bss_raw/usage"
