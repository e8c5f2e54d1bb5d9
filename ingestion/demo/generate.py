"""Generate ``.salam/source/miniboss_bss.db``: a small telecom BSS (deterministic for a seed).

Tables and their cursor columns match ``environments/dev/jobs/*.yaml``: customers, accounts,
subscriptions, invoices, invoice_lines, payments (``updated_at``), usage_records (``rated_at``),
provisioning_events (``event_time``), products and tariffs (full refresh). Timestamps are UTC text
``YYYY-MM-DD HH:MM:SS`` in columns declared TIMESTAMP; money is NUMERIC(14,4).
"""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

ANCHOR = datetime(2025, 1, 1, tzinfo=UTC)
SPAN_DAYS = 90

DDL = """
CREATE TABLE products (product_id INTEGER PRIMARY KEY, code TEXT NOT NULL, name TEXT NOT NULL,
  kind TEXT NOT NULL, active INTEGER NOT NULL, updated_at TIMESTAMP NOT NULL);
CREATE TABLE tariffs (tariff_id INTEGER PRIMARY KEY, product_id INTEGER NOT NULL,
  name TEXT NOT NULL,
  unit TEXT NOT NULL, price NUMERIC(14,4) NOT NULL, currency TEXT NOT NULL,
  valid_from TIMESTAMP NOT NULL,
  updated_at TIMESTAMP NOT NULL);
CREATE TABLE customers (customer_id INTEGER PRIMARY KEY, first_name TEXT NOT NULL,
  last_name TEXT NOT NULL,
  email TEXT NOT NULL, segment TEXT NOT NULL, city TEXT NOT NULL, created_at TIMESTAMP NOT NULL,
  updated_at TIMESTAMP NOT NULL);
CREATE TABLE accounts (account_id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL,
  billing_cycle INTEGER NOT NULL,
  status TEXT NOT NULL, credit_limit NUMERIC(14,4) NOT NULL, created_at TIMESTAMP NOT NULL,
  updated_at TIMESTAMP NOT NULL);
CREATE TABLE subscriptions (subscription_id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL,
  msisdn TEXT NOT NULL, product_id INTEGER NOT NULL, tariff_id INTEGER NOT NULL,
  status TEXT NOT NULL,
  activated_at TIMESTAMP NOT NULL, updated_at TIMESTAMP NOT NULL);
CREATE TABLE usage_records (usage_id INTEGER PRIMARY KEY, subscription_id INTEGER NOT NULL,
  usage_type TEXT NOT NULL, started_at TIMESTAMP NOT NULL, duration_s INTEGER NOT NULL,
  volume_kb INTEGER NOT NULL, charge NUMERIC(14,4) NOT NULL, rated_at TIMESTAMP NOT NULL);
CREATE TABLE invoices (invoice_id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL,
  period TEXT NOT NULL,
  total NUMERIC(14,4) NOT NULL, status TEXT NOT NULL, issued_at TIMESTAMP NOT NULL,
  updated_at TIMESTAMP NOT NULL);
CREATE TABLE invoice_lines (invoice_id INTEGER NOT NULL, line_no INTEGER NOT NULL,
  description TEXT NOT NULL,
  amount NUMERIC(14,4) NOT NULL, updated_at TIMESTAMP NOT NULL, PRIMARY KEY (invoice_id,
  line_no));
CREATE TABLE payments (payment_id INTEGER PRIMARY KEY, invoice_id INTEGER NOT NULL,
  account_id INTEGER NOT NULL,
  amount NUMERIC(14,4) NOT NULL, method TEXT NOT NULL, kind TEXT NOT NULL,
  paid_at TIMESTAMP NOT NULL,
  updated_at TIMESTAMP NOT NULL);
CREATE TABLE provisioning_events (event_id INTEGER PRIMARY KEY,
  subscription_id INTEGER NOT NULL,
  event_type TEXT NOT NULL, network_element TEXT NOT NULL, result TEXT NOT NULL,
  event_time TIMESTAMP NOT NULL);
CREATE INDEX usage_rated ON usage_records (rated_at);
CREATE INDEX events_time ON provisioning_events (event_time);"""

FIRST = [
    "Aisha",
    "Omar",
    "Priya",
    "Rahul",
    "Fatima",
    "Yusuf",
    "Meera",
    "Arjun",
    "Layla",
    "Karim",
    "Ananya",
    "Hassan",
    "Sara",
    "Vikram",
    "Noor",
    "Ravi",
]
LAST = ["Khan", "Sharma", "Haddad", "Iyer", "Rahman", "Patel", "Nasser", "Reddy", "Aziz", "Menon"]
CITIES = ["Mumbai", "Dubai", "Bengaluru", "Riyadh", "Chennai", "Doha", "Pune", "Muscat"]
PRODUCTS = [
    ("PRE-S", "Prepaid Small", "prepaid"),
    ("PRE-M", "Prepaid Medium", "prepaid"),
    ("POST-S", "Postpaid Smart", "postpaid"),
    ("POST-U", "Postpaid Unlimited", "postpaid"),
    ("DATA-10", "Data Pack 10GB", "addon"),
    ("ROAM-GCC", "Roaming GCC", "addon"),
    ("FTTH-100", "Fibre 100M", "fixed"),
    ("IOT-1", "IoT SIM", "iot"),
]
USAGE = [("voice", 0.45), ("sms", 0.2), ("data", 0.35)]
EVENTS = ["ACTIVATE", "SIM_SWAP", "PORT_IN", "SUSPEND", "RESUME", "PLAN_CHANGE", "DEACTIVATE"]


def ts(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S")


class _Gen:
    def __init__(self, seed: int):
        self.rng = random.Random(seed)

    def moment(self, after: datetime | None = None, days: float = SPAN_DAYS) -> datetime:
        start = after or ANCHOR
        return start + timedelta(seconds=self.rng.randint(0, int(days * 86400)))

    def money(self, low: float, high: float) -> str:
        return f"{self.rng.uniform(low, high):.4f}"


def generate(path: Path, rows: int = 20000, seed: int = 7) -> dict[str, int]:
    """Write the database at ``path`` (replacing it); return the row count of every table."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    gen = _Gen(seed)
    sizes = _sizes(rows)
    with sqlite3.connect(tmp) as conn:
        conn.executescript(DDL)
        for table, produce in _tables(gen, sizes):
            batch = list(produce)
            marks = ", ".join("?" * len(batch[0]))
            conn.executemany(f"INSERT INTO {table} VALUES ({marks})", batch)
        counts = {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in sizes}
    conn.close()
    tmp.replace(path)
    return counts


def _sizes(rows: int) -> dict[str, int]:
    customers = max(10, rows // 20)
    accounts = customers + customers // 10
    return {
        "products": len(PRODUCTS),
        "tariffs": len(PRODUCTS) * 3,
        "customers": customers,
        "accounts": accounts,
        "subscriptions": accounts * 3 // 2,
        "usage_records": rows,
        "invoices": accounts * 3,
        "invoice_lines": accounts * 9,
        "payments": accounts * 3,
        "provisioning_events": max(10, rows // 10),
    }


def _tables(gen: _Gen, sizes: dict[str, int]) -> Iterator[tuple[str, Iterator[tuple[object, ...]]]]:
    yield "products", _products(gen)
    yield "tariffs", _tariffs(gen)
    yield "customers", _customers(gen, sizes["customers"])
    yield "accounts", _accounts(gen, sizes)
    yield "subscriptions", _subscriptions(gen, sizes)
    yield "usage_records", _usage(gen, sizes)
    yield "invoices", _invoices(gen, sizes)
    yield "invoice_lines", _invoice_lines(gen, sizes)
    yield "payments", _payments(gen, sizes)
    yield "provisioning_events", _events(gen, sizes)


def _products(gen: _Gen) -> Iterator[tuple[object, ...]]:
    for i, (code, name, kind) in enumerate(PRODUCTS, 1):
        yield i, code, name, kind, int(gen.rng.random() > 0.1), ts(gen.moment())


def _tariffs(gen: _Gen) -> Iterator[tuple[object, ...]]:
    units = ["minute", "sms", "mb"]
    for i in range(len(PRODUCTS) * 3):
        created = gen.moment(days=30)
        yield (
            i + 1,
            i // 3 + 1,
            f"{PRODUCTS[i // 3][0]}-{units[i % 3]}",
            units[i % 3],
            gen.money(0.001, 0.5),
            "INR" if i % 2 else "AED",
            ts(created),
            ts(gen.moment(created, 60)),
        )


def _customers(gen: _Gen, count: int) -> Iterator[tuple[object, ...]]:
    for i in range(1, count + 1):
        first, last = gen.rng.choice(FIRST), gen.rng.choice(LAST)
        created = gen.moment(days=60)
        yield (
            i,
            first,
            last,
            f"{first}.{last}{i}@example.com".lower(),
            gen.rng.choice(["consumer", "consumer", "sme", "enterprise"]),
            gen.rng.choice(CITIES),
            ts(created),
            ts(gen.moment(created, 30)),
        )


def _accounts(gen: _Gen, sizes: dict[str, int]) -> Iterator[tuple[object, ...]]:
    for i in range(1, sizes["accounts"] + 1):
        created = gen.moment(days=60)
        yield (
            i,
            (i - 1) % sizes["customers"] + 1,
            gen.rng.choice([1, 8, 15, 22]),
            gen.rng.choice(["active"] * 8 + ["suspended", "closed"]),
            gen.money(500, 20000),
            ts(created),
            ts(gen.moment(created, 30)),
        )


def _subscriptions(gen: _Gen, sizes: dict[str, int]) -> Iterator[tuple[object, ...]]:
    for i in range(1, sizes["subscriptions"] + 1):
        product = gen.rng.randint(1, len(PRODUCTS))
        activated = gen.moment(days=60)
        yield (
            i,
            (i - 1) % sizes["accounts"] + 1,
            f"+9198{i:08d}",
            product,
            (product - 1) * 3 + 1,
            gen.rng.choice(["active"] * 9 + ["suspended"]),
            ts(activated),
            ts(gen.moment(activated, 30)),
        )


def _usage(gen: _Gen, sizes: dict[str, int]) -> Iterator[tuple[object, ...]]:
    kinds, weights = zip(*USAGE, strict=True)
    for i in range(1, sizes["usage_records"] + 1):
        kind = gen.rng.choices(kinds, weights)[0]
        started = gen.moment()
        duration = gen.rng.randint(5, 3600) if kind == "voice" else 0
        volume = gen.rng.randint(1, 500_000) if kind == "data" else 0
        charge = duration * 0.0125 / 60 + volume * 0.00002 + (0.25 if kind == "sms" else 0)
        rated = started + timedelta(seconds=duration + gen.rng.randint(30, 900))
        yield (
            i,
            gen.rng.randint(1, sizes["subscriptions"]),
            kind,
            ts(started),
            duration,
            volume,
            f"{charge:.4f}",
            ts(rated),
        )


def _invoices(gen: _Gen, sizes: dict[str, int]) -> Iterator[tuple[object, ...]]:
    for i in range(1, sizes["invoices"] + 1):
        month = (i - 1) // sizes["accounts"]
        issued = ANCHOR + timedelta(days=30 * month + 1, seconds=gen.rng.randint(0, 86400))
        yield (
            i,
            (i - 1) % sizes["accounts"] + 1,
            f"2025-{month + 1:02d}",
            gen.money(99, 4999),
            gen.rng.choice(["issued", "paid", "paid", "overdue"]),
            ts(issued),
            ts(gen.moment(issued, 20)),
        )


def _invoice_lines(gen: _Gen, sizes: dict[str, int]) -> Iterator[tuple[object, ...]]:
    for invoice in range(1, sizes["invoices"] + 1):
        for line in (1, 2, 3):
            label = ["Monthly plan", "Usage charges", "Taxes"][line - 1]
            yield invoice, line, label, gen.money(5, 1500), ts(gen.moment(days=SPAN_DAYS))


def _payments(gen: _Gen, sizes: dict[str, int]) -> Iterator[tuple[object, ...]]:
    for i in range(1, sizes["payments"] + 1):
        paid = gen.moment()
        kind = gen.rng.choice(["payment"] * 18 + ["refund", "chargeback"])
        yield (
            i,
            i,
            (i - 1) % sizes["accounts"] + 1,
            gen.money(10, 4999),
            gen.rng.choice(["card", "upi", "bank_transfer", "wallet"]),
            kind,
            ts(paid),
            ts(paid + timedelta(minutes=gen.rng.randint(0, 600))),
        )


def _events(gen: _Gen, sizes: dict[str, int]) -> Iterator[tuple[object, ...]]:
    for i in range(1, sizes["provisioning_events"] + 1):
        yield (
            i,
            gen.rng.randint(1, sizes["subscriptions"]),
            gen.rng.choice(EVENTS),
            gen.rng.choice(["HLR-01", "HLR-02", "PCRF-01", "OCS-01"]),
            gen.rng.choice(["ok"] * 19 + ["failed"]),
            ts(gen.moment()),
        )
