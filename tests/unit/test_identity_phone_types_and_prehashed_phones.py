"""Phones typed DOUBLE / DECIMAL in the warehouse, and pre-hashed phones (issue 17, normalization defects).

Numeric phones go the whole way a run takes them: a real warehouse (DuckDB file, SQLite through
SQLAlchemy) -> the snapshot Parquet (which keeps the column's type) -> validate -> prepare; what Meta
and Google receive is compared with ``hashlib.sha256`` of the vendor's normal form, computed here.
"""

from __future__ import annotations

import hashlib
import math
import sqlite3
import textwrap
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import phonenumbers
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from behavior_sync.cli import main as cli_main
from behavior_sync.identity.phones import resolve_slow_phones
from behavior_sync.identity.prepare import prepare_destination
from behavior_sync.identity.spec import DestinationSpec, IdentitySpec
from behavior_sync.identity.validate import ValidationSummary, validate_snapshot
from behavior_sync.warehouse import extract_to_parquet

META_RULES = "https://developers.facebook.com/docs/marketing-api/audiences/guides/custom-audiences"
GOOGLE_FORMAT = "https://developers.google.com/data-manager/api/devguides/concepts/formatting"
GRANTED = {"consent": {"ad_user_data": "GRANTED", "ad_personalization": "GRANTED"}}
DESTINATIONS = (DestinationSpec("meta", "meta"), DestinationSpec("google_ads", "google_ads", GRANTED))
SPEC = IdentitySpec("id", {"phone": "phone", "country": "country"}, DESTINATIONS)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# id -> (numeric phone, member country, E.164 the vendors' rules give, or "refused" (see REFUSED))
NUMERIC_PHONES: dict[str, tuple[float, str, str]] = {
    "berlin": (301234567.0, "DE", "+49301234567"),  # 030 1234567: the trunk 0 is gone in a number column
    "vienna": (6641234567.0, "AT", "+436641234567"),
    "california": (6505551212.0, "US", "+16505551212"),
    "us_with_code": (16505551212.0, "US", "+16505551212"),  # the leading 1 is the US trunk / country code
    "fraction": (301234567.5, "DE", "refused"),
    "beyond_2_53": (float(2**53 + 2), "DE", "refused"),
    "exponent": (1.5e20, "DE", "refused"),
    "nan": (math.nan, "DE", "refused"),
}


def duckdb_warehouse(folder: Path, sql_type: str) -> str:
    path = folder / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute(f"CREATE TABLE members (id VARCHAR, phone {sql_type}, country VARCHAR)")
        for key, (number, country, _) in NUMERIC_PHONES.items():
            value: Any = number if sql_type == "DOUBLE" or math.isnan(number) else Decimal(repr(number))
            if sql_type != "DOUBLE" and (math.isnan(number) or number > 1e17):
                value = None  # a DECIMAL holds neither NaN nor more digits than it has
            con.execute("INSERT INTO members VALUES (?, ?, ?)", [key, value, country])
    return f"duckdb:///{path}"


def sqlite_warehouse(folder: Path, _: str) -> str:
    path = folder / "warehouse.sqlite"
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE members (id TEXT, phone REAL, country TEXT)")
        rows = [(key, None if math.isnan(n) else n, c) for key, (n, c, _) in NUMERIC_PHONES.items()]
        con.executemany("INSERT INTO members VALUES (?, ?, ?)", rows)
    return f"sqlite:///{path}"


WAREHOUSES = {
    "duckdb-DOUBLE": (duckdb_warehouse, "DOUBLE", "double"),
    "duckdb-DECIMAL(18,2)": (duckdb_warehouse, "DECIMAL(18,2)", "decimal128(18, 2)"),
    "sqlite-REAL": (sqlite_warehouse, "REAL", "double"),
}


def validated(tmp_path: Path, warehouse: str) -> tuple[ValidationSummary, dict[str, dict[str, Any]]]:
    build, sql_type, arrow_type = WAREHOUSES[warehouse]
    snapshot = str(tmp_path / "snapshot.parquet")
    extract_to_parquet(build(tmp_path, sql_type), "SELECT id, phone, country FROM members", None, snapshot)
    assert str(pq.read_schema(snapshot).field("phone").type) == arrow_type  # the warehouse's type reaches validate
    summary = validate_snapshot(snapshot, str(tmp_path / "identity"), SPEC)
    members = pq.read_table(summary.identities_uri).to_pylist()
    return summary, {m["member_key"]: m for m in members}


def sent(tmp_path: Path, destination: str) -> dict[str, str]:
    identities = f"{tmp_path}/identity/identities.parquet"
    prepared = prepare_destination(identities, f"{tmp_path}/{destination}.parquet", SPEC, destination)
    return {r["member_key"]: r["value"] for r in pq.read_table(prepared.uri).to_pylist() if r["id_type"] == "phone"}


@pytest.mark.parametrize("warehouse", WAREHOUSES)
def test_whole_numeric_phones_are_read_as_their_digits_and_hashed_per_vendor(tmp_path: Path, warehouse: str) -> None:
    _, members = validated(tmp_path, warehouse)
    expected = {key: e164 for key, (_, _, e164) in NUMERIC_PHONES.items() if e164.startswith("+")}
    assert {key: members[key]["phone"] for key in expected} == expected
    # META_RULES: PHONE is digits only with the country code, no "+"; GOOGLE_FORMAT: E.164 with the "+".
    assert sent(tmp_path, "meta") == {key: sha256(e164[1:]) for key, e164 in expected.items()}
    assert sent(tmp_path, "google_ads") == {key: sha256(e164) for key, e164 in expected.items()}
    assert sha256("493012345670") not in sent(tmp_path, "meta").values()  # "301234567.0" read as text


# Refused per warehouse type: floats above 2^53 and NaN have unknown digits; a DECIMAL is exact (NaN and 1.5e20
# do not fit DECIMAL(18,2) and are NULL there; SQLite stores NaN as NULL).
REFUSED = {
    "duckdb-DOUBLE": {"fraction", "beyond_2_53", "exponent", "nan"},
    "duckdb-DECIMAL(18,2)": {"fraction"},
    "sqlite-REAL": {"fraction", "beyond_2_53", "exponent"},
}


@pytest.mark.parametrize("warehouse", WAREHOUSES)
def test_numeric_phones_whose_digits_are_unknown_are_refused_with_a_reason(tmp_path: Path, warehouse: str) -> None:
    summary, members = validated(tmp_path, warehouse)
    refused = {key for key, member in members.items() if member["phone_reason"] == "phone_numeric_inexact"}
    assert refused == REFUSED[warehouse] and all(members[key]["phone"] is None for key in refused)
    assert summary.fields["phone"]["invalid"]["phone_numeric_inexact"] == len(refused)


def test_a_float_column_refuses_numbers_beyond_its_exact_range(tmp_path: Path) -> None:
    table = pa.table({"id": ["big", "small"], "phone": pa.array([301234567.0, 4155551.0], pa.float32())})
    pq.write_table(table, tmp_path / "snap.parquet")
    spec = IdentitySpec("id", {"phone": "phone"}, DESTINATIONS, default_region="US")
    validate_snapshot(str(tmp_path / "snap.parquet"), str(tmp_path / "identity"), spec)
    members = {m["member_key"]: m for m in pq.read_table(tmp_path / "identity" / "identities.parquet").to_pylist()}
    assert members["big"]["phone_reason"] == "phone_numeric_inexact"  # a FLOAT keeps 24 bits: 301234560
    assert members["small"]["phone_reason"] == "phone_invalid"  # read as "4155551", not "4155551.0"


def test_the_library_path_agrees_with_the_fast_path_on_the_digits_of_numeric_phones(tmp_path: Path) -> None:
    _, members = validated(tmp_path, "duckdb-DOUBLE")
    pairs = [(f"{int(n)}", c, key) for key, (n, c, e164) in NUMERIC_PHONES.items() if e164.startswith("+")]
    table = pa.table({"raw": [p[0] for p in pairs], "region": [p[1] for p in pairs]})
    library = resolve_slow_phones(table).column("e164").to_pylist()
    assert library == [members[key]["phone"] for _, _, key in pairs]
    assert library == [
        phonenumbers.format_number(phonenumbers.parse(raw, region), phonenumbers.PhoneNumberFormat.E164)
        for raw, region, _ in pairs
    ]


PREHASHED_SPEC = IdentitySpec("id", {"email": "email", "phone": "phone"}, DESTINATIONS, prehashed=frozenset({"phone"}))


def test_a_prehashed_phone_reaches_google_and_is_quarantined_for_meta_with_a_reason(tmp_path: Path) -> None:
    # A pre-hashed phone is declared as SHA-256 of E.164 with the "+" (ADR 0014): what GOOGLE_FORMAT asks for.
    # META_RULES hash the digits without "+": that hash can never match there, so Meta does not get it.
    phone_hash = sha256("+14155550100")
    table = pa.table({"id": ["phone_only", "both"], "email": [None, "ann@example.com"], "phone": [phone_hash] * 2})
    pq.write_table(table, tmp_path / "snap.parquet")
    summary = validate_snapshot(str(tmp_path / "snap.parquet"), str(tmp_path / "identity"), PREHASHED_SPEC)
    quarantine = {
        (q["member_key"], q["destination_id"]): q["reasons"] for q in pq.read_table(summary.quarantine_uri).to_pylist()
    }
    assert quarantine == {("phone_only", "meta"): ["no_usable_identifier", "phone_hash_unusable"]}
    assert summary.destinations["meta"]["reasons"] == {"no_usable_identifier": 1, "phone_hash_unusable": 1}
    identities = f"{tmp_path}/identity/identities.parquet"
    meta = pq.read_table(prepare_destination(identities, f"{tmp_path}/m.parquet", PREHASHED_SPEC, "meta").uri)
    assert meta.to_pylist() == [{"member_key": "both", "id_type": "email", "value": sha256("ann@example.com")}]
    spec_google = prepare_destination(identities, f"{tmp_path}/g.parquet", PREHASHED_SPEC, "google_ads")
    google = {(r["member_key"], r["id_type"]): r["value"] for r in pq.read_table(spec_google.uri).to_pylist()}
    assert google[("phone_only", "phone")] == phone_hash and google[("both", "phone")] == phone_hash


def test_validate_warns_that_a_prehashed_phone_cannot_reach_meta(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    behavior = tmp_path / "hashed_phones.yaml"
    behavior.write_text(
        textwrap.dedent(
            """
            name: Hashed Phones
            query: tests/fixtures/sql/members_in_window.sql
            member_key: customer_id
            identifiers: {email: email, phone: phone}
            prehashed: [phone]
            destinations:
              - {type: meta}
              - {type: google_ads}
            """
        ),
        encoding="utf-8",
    )
    assert cli_main(["validate", str(behavior)]) == 0
    err = capsys.readouterr().err
    assert "warning: behavior 'hashed_phones': destination 'meta' (meta) needs PHONE hashed in another form" in err
    assert "phone is pre-hashed" in err and "phone_hash_unusable" in err and "'google_ads'" not in err
