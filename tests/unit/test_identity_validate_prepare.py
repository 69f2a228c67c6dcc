"""Validation, quarantine and preparation on fuzzed and hand-made snapshots (real DuckDB and Parquet)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from behavior_sync.identity.prepare import prepare_destination, prepare_members, prepared_sql
from behavior_sync.identity.spec import DestinationSpec, IdentitySpec
from behavior_sync.identity.validate import ValidationSummary, validate_members, validate_snapshot

COLUMNS = ("id", "email", "phone", "first_name", "last_name", "postal_code", "country", "madid")
DESTINATIONS = (
    DestinationSpec("meta", "meta"),
    DestinationSpec(
        "google_ads", "google_ads", {"consent": {"ad_user_data": "GRANTED", "ad_personalization": "GRANTED"}}
    ),
    DestinationSpec("hubspot_list", "hubspot", {"mode": "list"}),
    DestinationSpec("clevertap", "clevertap", {"identity": "email"}),
)
SPEC = IdentitySpec(
    member_key="id",
    identifiers={
        "email": "email",
        "phone": "phone",
        "first_name": "first_name",
        "last_name": "last_name",
        "postal_code": "postal_code",
        "country": "country",
        "mobile_id": "madid",
    },
    destinations=DESTINATIONS,
)
HUGE = "9" * 10_000
HEX = hashlib.sha256(b"someone@example.com").hexdigest()
# id -> row; comments say what each row proves.
ROWS: dict[str, tuple[Any, ...]] = {
    "ok": ("ok", " Ana.Silva@Example.com ", "(11) 91234-5678", "Ana", "Silva", "01310-100", "Brasil", None),
    "nulls": ("nulls", None, None, None, None, None, None, None),  # nothing at all
    "empty": ("empty", "", "  ", "", "", "", "", ""),  # empty strings are absent, not invalid
    "huge": ("huge", "a" * 10_000 + "@x.com", HUGE, "B" * 10_000, "C", HUGE, "US", HUGE),
    "unicode": ("unicode", "josé@exämple.com", "+33 6 12 34 56 78", "Zoë", "Müller", "75001", "France", None),
    "emoji": ("emoji", "😀@😀.com", "☎️", "😀", "🙂", "😀", "🏳️", None),
    "sql": (
        "sql",
        "'; DROP TABLE members; --",
        "1; DELETE FROM x",
        "Robert'); DROP TABLE students;--",
        "x",
        "' OR 1=1 --",
        "US",
        None,
    ),
    "badcountry": ("badcountry", "ok@example.com", "0151 12345678", "Al", "Bo", "12345", "Narnia", None),
    "madidonly": ("madidonly", "not-an-email", "000", None, None, None, "US", "8B1FA17B-C2A0-46B0-8FB4-D9796C2BCE1E"),
    "dup": ("dup", "bad@@example.com", None, "Dup", None, None, "US", None),  # fewer valid identifiers: dropped
}
DUPLICATE = ("dup", "dup@example.com", "+1 650 555 1212", "Dup", "Licate", "94105", "US", None)


def snapshot(rows: list[tuple[Any, ...]]) -> pa.Table:
    return pa.table({c: pa.array([r[i] for r in rows], pa.string()) for i, c in enumerate(COLUMNS)})


@pytest.fixture()
def validated() -> tuple[duckdb.DuckDBPyConnection, ValidationSummary]:
    con = duckdb.connect()
    con.register("snap", snapshot([*ROWS.values(), DUPLICATE]))
    return con, validate_members(con, "SELECT * FROM snap", SPEC)


def members(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, Any]]:
    table = con.sql("SELECT * FROM members").to_arrow_table()
    return {row["member_key"]: row for row in table.to_pylist()}


def quarantine(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], list[str]]:
    rows = con.sql("SELECT * FROM quarantine").to_arrow_table().to_pylist()
    return {(r["member_key"], r["destination_id"]): r["reasons"] for r in rows}


def test_fuzzed_rows_get_the_right_reasons_and_good_rows_survive(validated: Any) -> None:
    con, summary = validated
    m = members(con)
    assert (
        summary.rows == len(ROWS) + 1
        and summary.members == len(ROWS)
        and dict(summary.dropped) == {"duplicate_member_key": 1}
    )
    assert m["ok"]["email"] == "ana.silva@example.com" and m["ok"]["phone"] == "+5511912345678"
    assert m["ok"]["country"] == "BR" and m["ok"]["postal_code"] == "01310-100"
    assert all(m["nulls"][f] is None and m["nulls"][f"{f}_reason"] is None for f in SPEC.fields())
    assert all(m["empty"][f"{f}_reason"] is None for f in SPEC.fields())
    assert m["huge"]["email_reason"] == "email_invalid" and m["huge"]["phone_reason"] == "phone_unparseable"
    assert (
        m["huge"]["first_name_reason"] == "first_name_invalid" and m["huge"]["mobile_id_reason"] == "mobile_id_invalid"
    )
    assert m["huge"]["postal_code_reason"] == "postal_code_invalid"
    assert m["unicode"]["email"] == "josé@exämple.com" and m["unicode"]["phone"] == "+33612345678"
    assert m["unicode"]["country"] == "FR" and m["unicode"]["first_name"] == "Zoë"
    assert {
        m["emoji"][f"{f}_reason"] for f in ("email", "phone", "first_name", "last_name", "postal_code", "country")
    } == {
        "email_invalid",
        "phone_unparseable",
        "first_name_invalid",
        "last_name_invalid",
        "postal_code_invalid",
        "country_invalid",
    }
    assert m["sql"]["email_reason"] == "email_invalid" and m["sql"]["postal_code_reason"] == "postal_code_invalid"
    assert m["badcountry"]["country_reason"] == "country_invalid" and m["badcountry"]["email"] == "ok@example.com"
    assert m["madidonly"]["mobile_id"] == "8b1fa17b-c2a0-46b0-8fb4-d9796c2bce1e"
    assert m["dup"]["email"] == "dup@example.com"  # the row with more valid identifiers is kept


def test_quarantine_names_destination_and_reasons_and_never_values(validated: Any) -> None:
    con, summary = validated
    q = quarantine(con)
    assert q[("dup", "*")] == ["duplicate_member_key"]
    assert q[("emoji", "meta")][0] == "no_usable_identifier" and "email_invalid" in q[("emoji", "meta")]
    assert ("madidonly", "meta") not in q  # an advertising id is enough for Meta
    assert q[("madidonly", "hubspot_list")] == ["no_usable_identifier", "email_invalid", "phone_invalid"]
    assert ("nulls", "google_ads") in q and ("ok", "meta") not in q
    every_reason = {reason for reasons in q.values() for reason in reasons}
    assert all(re.fullmatch(r"[a-z_]+", reason) for reason in every_reason)
    assert summary.destinations["hubspot_list"]["quarantined"] == sum(1 for (_, d) in q if d == "hubspot_list")


def test_quality_metrics_are_shares_of_the_snapshot(validated: Any) -> None:
    _, summary = validated
    fields = summary.fields
    assert fields["email"]["present"] == 9 and fields["email"]["invalid"] == {"email_invalid": 5}
    assert summary.metrics["invalid_email_share"] == pytest.approx(5 / 9)
    assert summary.metrics["member_key_nulls"] == 0
    assert 0 < summary.metrics["identifiable_share"] < 1


def prepared(con: duckdb.DuckDBPyConnection, destination: DestinationSpec) -> list[dict[str, Any]]:
    prepare_members(con, SPEC, destination)
    long = prepared_sql(SPEC, destination)
    return con.sql(f"SELECT * FROM ({long}) ORDER BY member_key, id_type").to_arrow_table().to_pylist()


def test_meta_and_google_receive_hashes_only_except_unhashed_keys(validated: Any) -> None:
    con, _ = validated
    raw = {str(v) for row in ROWS.values() for v in row if v}
    for destination in DESTINATIONS[:2]:
        rows = prepared(con, destination)
        assert rows and not {r["value"] for r in rows} & raw
        for row in rows:
            if row["id_type"] == "mobile_id":
                assert row["value"] == "8b1fa17b-c2a0-46b0-8fb4-d9796c2bce1e"
            elif row["id_type"] == "address":
                given, family, region, postal = row["value"].split(":")
                assert re.fullmatch("[0-9a-f]{64}", given) and re.fullmatch("[0-9a-f]{64}", family)
                assert (region, postal) in {("BR", "01310-100"), ("FR", "75001"), ("US", "94105"), ("US", "12345")}
            else:
                assert re.fullmatch("[0-9a-f]{64}", row["value"]), row


def test_dictionary_hashed_fields_equal_direct_hashes(validated: Any) -> None:
    con, _ = validated
    rows = {(r["member_key"], r["id_type"]): r["value"] for r in prepared(con, DESTINATIONS[0])}
    assert rows[("ok", "first_name")] == hashlib.sha256(b"ana").hexdigest()
    assert rows[("ok", "country")] == hashlib.sha256(b"br").hexdigest()
    assert rows[("unicode", "last_name")] == hashlib.sha256("müller".encode()).hexdigest()
    assert rows[("ok", "email")] == hashlib.sha256(b"ana.silva@example.com").hexdigest()


def test_crm_destinations_receive_plain_normalized_values(validated: Any) -> None:
    con, _ = validated
    hubspot = prepared(con, DESTINATIONS[2])
    assert {(r["member_key"], r["value"]) for r in hubspot} >= {
        ("ok", "ana.silva@example.com"),
        ("dup", "dup@example.com"),
    }
    clevertap = {(r["member_key"], r["id_type"]): r["value"] for r in prepared(con, DESTINATIONS[3])}
    assert clevertap[("ok", "identity")] == "ana.silva@example.com" and clevertap[("ok", "phone")] == "+5511912345678"


def test_prehashed_columns_pass_through_and_bad_hashes_are_quarantined(tmp_path: Path) -> None:
    spec = IdentitySpec(
        "id", {"email": "email", "first_name": "first_name"}, DESTINATIONS[:3], prehashed=frozenset({"email"})
    )
    table = pa.table({"id": ["a", "b"], "email": [HEX.upper(), "not-a-hash"], "first_name": ["Ana", "Bo"]})
    pq.write_table(table, tmp_path / "snap.parquet")
    summary = validate_snapshot(str(tmp_path / "snap.parquet"), str(tmp_path / "identity"), spec)
    assert summary.fields["email"]["invalid"] == {"email_hash_invalid": 1}
    meta = prepare_destination(f"{tmp_path}/identity/identities.parquet", f"{tmp_path}/meta.parquet", spec, "meta")
    rows = pq.read_table(meta.uri).to_pylist()
    assert {"member_key": "a", "id_type": "email", "value": HEX} in rows
    assert not any(r["id_type"] == "first_initial" and r["member_key"] == "b" for r in rows)  # b is unusable
    hubspot = prepare_destination(
        f"{tmp_path}/identity/identities.parquet", f"{tmp_path}/h.parquet", spec, "hubspot_list"
    )
    assert hubspot.rows == 0  # a CRM needs the plain address: a hash cannot be sent


def test_validate_snapshot_writes_run_scoped_parquet_files(tmp_path: Path) -> None:
    pq.write_table(snapshot(list(ROWS.values())), tmp_path / "snap.parquet")
    summary = validate_snapshot(str(tmp_path / "snap.parquet"), str(tmp_path / "identity"), SPEC)
    identities = pq.read_table(summary.identities_uri)
    assert identities.num_rows == summary.members and "raw_email" not in identities.column_names
    q = pq.read_table(summary.quarantine_uri)
    assert q.column_names == ["member_key", "destination_id", "reasons"]
    again = validate_snapshot(str(tmp_path / "snap.parquet"), str(tmp_path / "identity"), SPEC)
    assert again.members == summary.members and sorted(p.name for p in (tmp_path / "identity").iterdir()) == [
        "identities.parquet",
        "quarantine.parquet",
    ]
