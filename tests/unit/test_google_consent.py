"""Google Customer Match receives only members whose consent is GRANTED (real DuckDB validate + prepare)."""

from __future__ import annotations

from typing import Any

import duckdb
import pyarrow as pa

from behavior_sync.identity.prepare import prepare_members, prepared_sql
from behavior_sync.identity.spec import DestinationSpec, IdentitySpec
from behavior_sync.identity.validate import validate_members

GOOGLE = DestinationSpec("google_ads", "google_ads", {"consent": {"ad_personalization": "GRANTED"}})
META = DestinationSpec("meta", "meta")
SPEC = IdentitySpec(
    member_key="id",
    identifiers={"email": "email"},
    destinations=(GOOGLE, META),
    consent={"ad_user_data": "ads"},  # ad_personalization is not mapped: the destination's setting applies
)
# id, email, consent column for ad_user_data
ROWS = [("granted", "a@example.com", "true"), ("denied", "b@example.com", "no"), ("unknown", "c@example.com", None)]


def validated(spec: IdentitySpec = SPEC) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.register("snap", pa.table({c: [r[i] for r in ROWS] for i, c in enumerate(("id", "email", "ads"))}))
    validate_members(con, "SELECT * FROM snap", spec)
    return con


def prepared_members(
    con: duckdb.DuckDBPyConnection, destination: DestinationSpec, spec: IdentitySpec = SPEC
) -> set[str]:
    prepare_members(con, spec, destination, "wide")
    return {str(row[0]) for row in con.sql(prepared_sql(spec, destination, "wide")).fetchall()}


def test_google_receives_only_granted_members_and_quarantines_the_others_as_consent_not_granted() -> None:
    con = validated()
    quarantine: dict[tuple[str, str], Any] = {
        (r[0], r[1]): r[2] for r in con.sql("SELECT member_key, destination_id, reasons FROM quarantine").fetchall()
    }
    assert prepared_members(con, GOOGLE) == {"granted"}
    assert quarantine[("denied", "google_ads")] == ["consent_not_granted"]
    assert quarantine[("unknown", "google_ads")] == ["consent_not_granted"]  # no value, no default: not uploaded


def test_other_destinations_are_not_filtered_by_consent() -> None:
    assert prepared_members(validated(), META) == {"granted", "denied", "unknown"}


def test_a_destination_default_fills_an_unknown_consent_but_never_overrides_a_denial() -> None:
    lenient = DestinationSpec(
        "google_ads", "google_ads", {"consent": {"ad_user_data": "GRANTED", "ad_personalization": "GRANTED"}}
    )
    spec = IdentitySpec("id", {"email": "email"}, (lenient,), consent={"ad_user_data": "ads"})
    assert prepared_members(validated(spec), lenient, spec) == {"granted", "unknown"}
