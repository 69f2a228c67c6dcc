"""The demo warehouse generator (behavior_sync.demo_warehouse) and the six example behaviors on it.

One module-scoped set of warehouses (5,000 customers, a few seconds in all): AS_OF twice (for
determinism), another seed, and AS_OF + 7 days (for churn). Shares are asserted with margins
around what the generator is built to produce; the comments give the values observed.
"""

from __future__ import annotations

import collections
import datetime as dt
import functools
import hashlib
import re
from collections.abc import Iterator
from pathlib import Path

import duckdb
import phonenumbers
import pyarrow as pa
import pytest

from behavior_sync.demo_warehouse import DemoSummary, generate_demo_warehouse
from behavior_sync.warehouse import iter_record_batches
from tests.examples import EXAMPLE_BEHAVIORS

ROOT = Path(__file__).resolve().parents[2]
CUSTOMERS = 5_000
SEED = 42
AS_OF = dt.date(2026, 11, 23)
LATER = AS_OF + dt.timedelta(days=7)
BEHAVIORS = EXAMPLE_BEHAVIORS
MEMBER_COLUMNS = [
    "customer_id",
    "email",
    "phone",
    "first_name",
    "last_name",
    "city",
    "state",
    "postal_code",
    "country",
    "date_of_birth",
    "gender",
    "madid",
    "consent_ads",
    "consent_personalization",
]
TABLES = ("customers", "orders", "browse_events", "demo_metadata")
ISO = {"US", "BR", "GB", "DE", "FR", "CA"}
COUNTRY_ALIASES = {
    "UNITED STATES": "US",
    "USA": "US",
    "U.S.A.": "US",
    "UNITED STATES OF AMERICA": "US",
    "BRASIL": "BR",
    "BRAZIL": "BR",
    "UNITED KINGDOM": "GB",
    "UK": "GB",
    "GREAT BRITAIN": "GB",
    "ENGLAND": "GB",
    "GERMANY": "DE",
    "DEUTSCHLAND": "DE",
    "FRANCE": "FR",
    "CANADA": "CA",
}
POSTAL_PATTERNS = {
    "US": r"\d{5}(-\d{4})?",
    "BR": r"\d{5}-?\d{3}",
    "GB": r"[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}",
    "DE": r"\d{5}",
    "FR": r"\d{5}",
    "CA": r"[A-Z]\d[A-Z] ?\d[A-Z]\d",
}
EMAIL = re.compile(r"[a-z0-9._+-]+@[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,}")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", re.IGNORECASE)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, DemoSummary]:
    """Warehouses by role: base, again (same arguments), other_seed, later (AS_OF + 7 days)."""
    folder = tmp_path_factory.mktemp("demo")
    specs = {"base": (SEED, AS_OF), "again": (SEED, AS_OF), "other_seed": (7, AS_OF), "later": (SEED, LATER)}
    return {
        role: generate_demo_warehouse(folder / role / "warehouse.duckdb", seed=seed, as_of=as_of, customers=CUSTOMERS)
        for role, (seed, as_of) in specs.items()
    }


@pytest.fixture(scope="module")
def customers(built: dict[str, DemoSummary]) -> list[dict[str, object]]:
    """The base warehouse's customers rows as dicts."""
    return _query(built["base"].path, "SELECT * FROM customers").to_pylist()


def _query(path: Path, sql: str) -> pa.Table:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.sql(sql).to_arrow_table()


def _members(path: Path, behavior: str, as_of: dt.date) -> pa.Table:
    """The behavior's rows on the warehouse at ``path`` for the daily run whose window ends after ``as_of``."""
    sql = (ROOT / "include" / "sql" / "behaviors" / f"{behavior}.sql").read_text()
    end = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time())
    params = {"data_interval_start": end - dt.timedelta(days=1), "data_interval_end": end}
    return pa.Table.from_batches(list(iter_record_batches(f"duckdb:///{path}", sql, params)))


def _ids(table: pa.Table) -> set[int]:
    return set(table.column("customer_id").to_pylist())


@functools.cache
def _table_digest(path: Path, table: str) -> str:
    """SHA-256 of a table's rows in stored order (the generator writes them sorted)."""
    with duckdb.connect(str(path), read_only=True) as con:
        rows = con.execute(f"SELECT * FROM {table}").fetchall()
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def _share(rows: list[dict[str, object]], predicate: object) -> float:
    return sum(1 for row in rows if predicate(row)) / len(rows)  # type: ignore[operator]


# -- summary, tables, arguments -------------------------------------------------------------------


def test_summary_matches_the_file(built: dict[str, DemoSummary]) -> None:
    summary = built["base"]
    assert (summary.seed, summary.as_of, summary.customers) == (SEED, AS_OF, CUSTOMERS)
    assert summary.path.is_file() and summary.seconds > 0
    counts = _query(
        summary.path,
        """
        SELECT (SELECT count(*) FROM customers) AS c, (SELECT count(DISTINCT customer_id) FROM customers) AS ids,
               (SELECT count(*) FROM orders) AS o, (SELECT count(*) FROM browse_events) AS b""",
    ).to_pylist()[0]
    assert (counts["c"], counts["o"], counts["b"]) == (summary.customer_rows, summary.order_rows, summary.browse_rows)
    assert counts["ids"] == CUSTOMERS  # every id has signed up by AS_OF
    assert CUSTOMERS < summary.customer_rows < CUSTOMERS * 1.01  # ~0.5 % duplicated rows
    assert summary.order_rows > 3 * CUSTOMERS and summary.browse_rows > summary.order_rows


def test_tables_have_the_contract_columns(built: dict[str, DemoSummary]) -> None:
    path = built["base"].path
    types = _column_types(path)
    assert list(types["customers"])[:18] == [
        *MEMBER_COLUMNS[:12],
        "signup_date",
        "consent_ads",
        "consent_personalization",
        "consent_email",
        "loyalty_tier",
        "preferred_category",
    ]
    assert types["customers"]["customer_id"] == "BIGINT" and types["customers"]["date_of_birth"] == "DATE"
    assert types["customers"]["consent_ads"] == "BOOLEAN" and types["customers"]["signup_date"] == "DATE"
    assert {
        "order_id",
        "customer_id",
        "order_ts",
        "amount",
        "discount_amount",
        "items",
        "category",
        "is_premium",
        "shipping_speed",
        "returned",
    } <= set(types["orders"])
    assert (types["orders"]["order_ts"], types["orders"]["amount"], types["orders"]["items"]) == (
        "TIMESTAMP",
        "DECIMAL(12,2)",
        "INTEGER",
    )
    assert {"customer_id", "event_ts", "event_type", "category", "is_new_arrival"} <= set(types["browse_events"])
    metadata = _query(path, "SELECT * FROM demo_metadata").to_pylist()
    assert len(metadata) == 1 and (metadata[0]["seed"], metadata[0]["as_of"], metadata[0]["customers"]) == (
        SEED,
        AS_OF,
        CUSTOMERS,
    )
    assert metadata[0]["generator_version"]


def _column_types(path: Path) -> dict[str, dict[str, str]]:
    rows = _query(
        path,
        "SELECT table_name, column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = 'main' ORDER BY table_name, ordinal_position",
    ).to_pylist()
    types: dict[str, dict[str, str]] = collections.defaultdict(dict)
    for row in rows:
        types[row["table_name"]][row["column_name"]] = row["data_type"]
    assert sorted(types) == sorted(TABLES)  # nothing else is left in the file (temp tables, macros)
    return types


def test_facts_stay_inside_the_history_windows(built: dict[str, DemoSummary]) -> None:
    bounds = _query(
        built["base"].path,
        """
        SELECT (SELECT min(order_ts) FROM orders) AS o_min, (SELECT max(order_ts) FROM orders) AS o_max,
               (SELECT min(event_ts) FROM browse_events) AS b_min, (SELECT max(event_ts) FROM browse_events) AS b_max,
               (SELECT count(*) FROM orders o JOIN (SELECT DISTINCT customer_id, signup_date FROM customers) c
                  USING (customer_id) WHERE CAST(o.order_ts AS DATE) < c.signup_date) AS before_signup,
               (SELECT count(DISTINCT event_type) FROM browse_events) AS event_types""",
    ).to_pylist()[0]
    assert bounds["o_min"].date() == AS_OF - dt.timedelta(days=399) and bounds["o_max"].date() == AS_OF
    assert bounds["b_min"].date() == AS_OF - dt.timedelta(days=119) and bounds["b_max"].date() == AS_OF
    assert bounds["before_signup"] == 0 and bounds["event_types"] == 3


def test_rejects_bad_arguments(tmp_path: Path) -> None:
    target = tmp_path / "w.duckdb"
    with pytest.raises(TypeError):
        generate_demo_warehouse(target, as_of=dt.datetime(2026, 11, 23), customers=10)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        generate_demo_warehouse(target, seed="42", as_of=AS_OF, customers=10)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        generate_demo_warehouse(target, as_of=AS_OF, customers=0)
    assert not target.exists()


def test_write_is_atomic_and_replaces_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "nested" / "folder" / "w.duckdb"
    first = generate_demo_warehouse(target, as_of=AS_OF, customers=50)
    second = generate_demo_warehouse(target, seed=1, as_of=AS_OF, customers=60)
    assert sorted(p.name for p in target.parent.iterdir()) == ["w.duckdb"]  # no temp file or WAL left
    assert (first.customers, second.customers) == (50, 60)
    assert _query(target, "SELECT seed, customers FROM demo_metadata").to_pylist() == [{"seed": 1, "customers": 60}]


# -- determinism ----------------------------------------------------------------------------------


@pytest.mark.parametrize("table", TABLES)
def test_same_arguments_give_identical_tables(built: dict[str, DemoSummary], table: str) -> None:
    assert _table_digest(built["base"].path, table) == _table_digest(built["again"].path, table)


@pytest.mark.parametrize("table", ["customers", "orders", "browse_events"])
def test_another_seed_gives_another_universe(built: dict[str, DemoSummary], table: str) -> None:
    assert _table_digest(built["base"].path, table) != _table_digest(built["other_seed"].path, table)
    first_rows = f"SELECT * FROM {table} LIMIT 200"
    base, other = (_query(built[role].path, first_rows).to_pylist() for role in ("base", "other_seed"))
    assert sum(a == b for a, b in zip(base, other, strict=True)) < 5


# -- messiness ------------------------------------------------------------------------------------


def test_emails_are_messy(customers: list[dict[str, object]]) -> None:
    emails = [str(r["email"]) for r in customers if r["email"] is not None]
    assert 0.94 < len(emails) / len(customers) < 0.99  # ~3 % have none
    assert 0.05 < _share_of(emails, lambda e: e != e.lower()) < 0.2  # upper / capitalized (~12 %)
    assert 0.01 < _share_of(emails, lambda e: e != e.strip()) < 0.05  # padded (~2.5 %)
    gmail = [e.strip().lower() for e in emails if re.search(r"@(gmail|googlemail)\.com$", e.strip().lower())]
    assert any("googlemail" in e for e in gmail)
    assert 0.03 < _share_of(gmail, lambda e: "+" in e) < 0.2  # +tags (~10 %)
    assert any(re.match(r"^[a-z]\.", e) for e in gmail)  # dots inserted
    assert len(set(emails)) > 0.97 * len(emails)  # mostly distinct (duplicated rows share some)


def test_phones_come_in_many_formats_and_valid_ones_are_valid(customers: list[dict[str, object]]) -> None:
    phones = [(str(r["phone"]), r["country"]) for r in customers if r["phone"] is not None]
    assert 0.84 < len(phones) / len(customers) < 0.92  # ~12 % missing
    shapes = collections.Counter(re.sub(r"\d", "9", p) for p, _ in phones)
    for shape in (
        "(999) 999-9999",
        "999.999.9999",
        "+9 999 999 9999",
        "+99 99 99999-9999",
        "(99) 99999-9999",
        "99999 999999",
        "99 99 99 99 99",
        "+99 9 99 99 99 99",
    ):
        assert shape in shapes, shape
    assert len(shapes) >= 25
    checked = [(p, str(c)) for p, c in phones if c in ISO and not _phone_invalid(p)]
    valid = sum(phonenumbers.is_valid_number(phonenumbers.parse(p, c)) for p, c in checked)
    assert valid == len(checked)  # observed: all of them; valid shapes are built from accepted ranges


def test_duplicates_invalid_values_and_madids(customers: list[dict[str, object]]) -> None:
    per_id = collections.Counter(r["customer_id"] for r in customers)
    assert 0.002 < sum(n > 1 for n in per_id.values()) / len(per_id) < 0.01  # ~0.5 %
    invalid = _share(customers, _row_invalid)
    assert 0.005 < invalid < 0.02, invalid  # ~1.1 %
    madids = [str(r["madid"]) for r in customers if r["madid"] is not None]
    assert 0.25 < len(madids) / len(customers) < 0.35  # ~30 %
    assert all(UUID.fullmatch(m) for m in madids)
    assert 0.3 < _share_of(madids, str.isupper) < 0.6  # IDFA-style upper case (~45 %), the rest lower


def test_names_countries_postal_codes_and_consent(customers: list[dict[str, object]]) -> None:
    names = [str(r[k]) for r in customers for k in ("first_name", "last_name") if r[k] is not None]
    assert _share_of(names, lambda n: not n.isascii()) > 0.05
    assert {"José", "Zoë", "Müller", "François"} & set(names)
    assert _share_of(names, lambda n: n != n.strip()) > 0.01 and _share_of(names, str.isupper) > 0.01
    countries = [r["country"] for r in customers]
    assert 0.85 < _share_of(countries, lambda c: c in ISO) < 0.95
    assert any(c is None for c in countries) and any(c in {"us", "br", "gb"} for c in countries)
    assert any(c in COUNTRY_ALIASES or (c and c.upper() in COUNTRY_ALIASES) for c in countries)
    postal = {str(r["postal_code"]) for r in customers if r["postal_code"]}
    for example in (r"\d{5}-\d{4}", r"\d{5}-\d{3}", r"[A-Z]{1,2}\d[A-Z\d]? \d[A-Z]{2}", r"[A-Z]\d[A-Z] \d[A-Z]\d"):
        assert any(re.fullmatch(example, p) for p in postal), example
    assert 0.75 < _share(customers, lambda r: r["consent_ads"] is True) < 0.9
    assert any(r["consent_ads"] is False for r in customers) and any(r["consent_ads"] is None for r in customers)


def _share_of(values: list[object], predicate: object) -> float:
    return sum(1 for v in values if predicate(v)) / len(values)  # type: ignore[operator]


def _phone_invalid(phone: str) -> bool:
    digits = re.sub(r"\D", "", phone)
    return bool(re.search(r"[A-Za-z]", phone)) or len(digits) < 8 or set(digits) == {"0"} or set(digits) <= {"0", "1"}


def _row_invalid(row: dict[str, object]) -> bool:
    """Whether a customers row holds an e-mail, phone or postal code no normalization can save."""
    email, phone, postal = row["email"], row["phone"], row["postal_code"]
    if email is not None and not EMAIL.fullmatch(str(email).strip().lower()):
        return True
    if phone is not None and _phone_invalid(str(phone)):
        return True
    if postal is None:
        return False
    raw = str(row["country"] or "").strip().upper()
    country = COUNTRY_ALIASES.get(raw, raw)
    patterns = [POSTAL_PATTERNS[country]] if country in POSTAL_PATTERNS else list(POSTAL_PATTERNS.values())
    return not any(re.fullmatch(p, str(postal).upper()) for p in patterns)


# -- behaviors and churn --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def memberships(built: dict[str, DemoSummary]) -> dict[tuple[str, str], pa.Table]:
    """Each behavior's rows at AS_OF (base warehouse) and at LATER (later warehouse)."""
    result = {}
    for behavior in BEHAVIORS:
        result[(behavior, "base")] = _members(built["base"].path, behavior, AS_OF)
        result[(behavior, "later")] = _members(built["later"].path, behavior, LATER)
    return result


@pytest.mark.parametrize("behavior", BEHAVIORS)
def test_behavior_returns_the_member_columns_at_a_realistic_size(
    memberships: dict[tuple[str, str], pa.Table], behavior: str
) -> None:
    members = memberships[(behavior, "base")]
    assert members.column_names == MEMBER_COLUMNS
    # Observed at 5,000 customers: 257 (cart abandoners) to 746 (quality enthusiasts).
    assert 0.02 * CUSTOMERS < len(_ids(members)) < 0.3 * CUSTOMERS
    assert members.num_rows - len(_ids(members)) < 0.02 * members.num_rows  # duplicated customer rows only


@pytest.mark.parametrize("behavior", BEHAVIORS)
def test_a_week_later_members_join_and_leave(memberships: dict[tuple[str, str], pa.Table], behavior: str) -> None:
    before, after = _ids(memberships[(behavior, "base")]), _ids(memberships[(behavior, "later")])
    joins, leaves, kept = after - before, before - after, before & after
    assert joins and leaves
    if behavior == "cart_abandoners":  # a 7-day window turns over in 7 days: only repeat abandoners stay
        assert 0 < len(kept) < 0.5 * len(before)
    else:  # observed: 74 % (trend followers, 30-day window) to 98 % (quality enthusiasts, 365 days)
        assert len(kept) > 0.6 * len(before)


@pytest.mark.parametrize("behavior", BEHAVIORS)
def test_the_later_warehouse_keeps_the_past(built: dict[str, DemoSummary], behavior: str) -> None:
    """Behaviors computed on the later warehouse for the earlier date match the earlier warehouse."""
    assert _ids(_members(built["later"].path, behavior, AS_OF)) == _ids(_members(built["base"].path, behavior, AS_OF))


def test_past_facts_are_unchanged_and_new_days_are_added(built: dict[str, DemoSummary]) -> None:
    later_start, next_day = LATER - dt.timedelta(days=399), AS_OF + dt.timedelta(days=1)
    with duckdb.connect(":memory:") as con:
        con.execute(f"ATTACH '{built['base'].path}' AS a (READ_ONLY)")
        con.execute(f"ATTACH '{built['later'].path}' AS b (READ_ONLY)")
        row = con.execute(f"""
            SELECT (SELECT count(*) FROM (SELECT * FROM a.orders WHERE order_ts >= DATE '{later_start}'
                                          EXCEPT ALL SELECT * FROM b.orders)) AS lost,
                   (SELECT count(*) FROM (SELECT * FROM b.orders WHERE order_ts < DATE '{next_day}'
                                          EXCEPT ALL SELECT * FROM a.orders)) AS invented,
                   (SELECT count(*) FROM b.orders WHERE order_ts >= DATE '{next_day}') AS new_orders,
                   (SELECT count(*) FROM (SELECT * FROM a.browse_events
                                          WHERE event_ts >= DATE '{LATER - dt.timedelta(days=119)}'
                                          EXCEPT ALL SELECT * FROM b.browse_events)) AS lost_events""").fetchone()
    assert row is not None
    lost, invented, new_orders, lost_events = row
    assert (lost, invented, lost_events) == (0, 0, 0)
    assert new_orders > 0.5 * CUSTOMERS / 100 * 7  # several hundred orders a week at 5,000 customers


def test_some_customers_change_email_between_dates(built: dict[str, DemoSummary]) -> None:
    sql = "SELECT customer_id, email FROM customers QUALIFY count(*) OVER (PARTITION BY customer_id) = 1"
    before = {r["customer_id"]: r["email"] for r in _query(built["base"].path, sql).to_pylist()}
    after = {r["customer_id"]: r["email"] for r in _query(built["later"].path, sql).to_pylist()}
    changed = [cid for cid in before.keys() & after.keys() if before[cid] != after[cid]]
    assert 1 <= len(changed) < 0.01 * CUSTOMERS  # ~5 % of customers a year: a handful a week


def _iter_behavior_files() -> Iterator[Path]:
    yield from sorted((ROOT / "include" / "sql" / "behaviors").glob("*.sql"))


def test_behavior_files_are_single_statements_with_a_header() -> None:
    files = list(_iter_behavior_files())
    assert {f.stem for f in files} >= set(BEHAVIORS)
    for file in files:
        text = file.read_text()
        assert text.startswith("-- ") and "Rule:" in text, file.name
        assert ":data_interval_end" in text and "::" not in text, file.name
        code = "\n".join(line.split("--")[0] for line in text.splitlines())
        assert ";" not in code.rstrip().rstrip(";"), file.name
