"""The prepare step: identities -> per destination, one row per (member, identifier) as the destination wants it.

Output (``prepared.parquet`` per destination): ``member_key``, ``id_type`` (the rule's id, e.g.
``email``, ``first_initial``, ``address``), ``value`` (SHA-256 hex where the destination hashes, the
normalized plain value where it takes plain values, e.g. HubSpot and CleverTap). Only members with an
identifier the destination can match on are written (the others are in the quarantine file). This
is the input of the add/remove planner.

Hashing: identifiers with few distinct values (names, cities, postal codes, countries, birth
dates, genders) are hashed once per distinct value and joined back; the others row by row.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import duckdb

from behavior_sync import parquet_io
from behavior_sync.identity.engine import connect, fetch_reader, scrubbed
from behavior_sync.identity.rules import Rule, value_sql
from behavior_sync.identity.spec import DestinationSpec, IdentitySpec
from behavior_sync.identity.validate import usable_sql

PREPARED_COLUMNS = ("member_key", "id_type", "value")
# Rules whose source has few distinct values: hash a dictionary of distinct values, not every row.
_DICTIONARY_SOURCES = frozenset(
    {"first_name", "last_name", "city", "state", "postal_code", "country", "date_of_birth", "gender"}
)


@dataclass(frozen=True)
class PreparedSummary:
    """What one destination's prepare wrote: counts only."""

    destination_id: str
    uri: str
    members: int
    rows: int
    by_type: Mapping[str, int]
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        """JSON-serializable form (for XCom and history details)."""
        return asdict(self)


def _uses_dictionary(rule: Rule, spec: IdentitySpec) -> bool:
    return (
        rule.hashed
        and not rule.parts
        and rule.sources[0] in _DICTIONARY_SOURCES
        and rule.sources[0] not in spec.prehashed
    )


def _hashed_dictionary_select(rule: Rule, spec: IdentitySpec) -> str:
    normalized = value_sql(rule, spec.prehashed, hash_values=False)
    return (
        f"SELECT m.member_key, '{rule.id_type}' AS id_type, d.h AS value "
        f"FROM (SELECT member_key, {normalized} AS n FROM usable) AS m "
        f"JOIN (SELECT n, sha256(n) AS h FROM (SELECT DISTINCT {normalized} AS n FROM usable) "
        "WHERE n IS NOT NULL) AS d "
        "ON d.n = m.n"
    )


def prepared_sql(spec: IdentitySpec, destination: DestinationSpec) -> str:
    """SQL over table ``usable`` (the destination's usable members): the prepared rows."""
    selects = []
    for rule in spec.rules(destination):
        if _uses_dictionary(rule, spec):
            selects.append(_hashed_dictionary_select(rule, spec))
            continue
        value = value_sql(rule, spec.prehashed)
        selects.append(
            f"SELECT member_key, '{rule.id_type}' AS id_type, v AS value "
            f"FROM (SELECT member_key, {value} AS v FROM usable) WHERE v IS NOT NULL"
        )
    if not selects:
        return "SELECT member_key, CAST(NULL AS VARCHAR) AS id_type, CAST(NULL AS VARCHAR) AS value FROM usable LIMIT 0"
    return " UNION ALL ".join(selects)


def prepare_members(con: duckdb.DuckDBPyConnection, spec: IdentitySpec, destination: DestinationSpec) -> None:
    """From table ``members`` creates ``usable`` (members the destination can match) and ``prepared``."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE usable AS SELECT * FROM members WHERE {usable_sql(spec, destination)}")
    con.execute(f"CREATE OR REPLACE TEMP TABLE prepared AS {prepared_sql(spec, destination)}")


def prepare_destination(identities_uri: str, out_uri: str, spec: IdentitySpec, destination_id: str) -> PreparedSummary:
    """Writes the prepared rows of one destination to ``out_uri`` (atomic, idempotent); returns counts.

    Raises ``IdentityError`` (no values in its text) on storage or engine failures, KeyError for an
    unknown destination id.
    """
    destination = spec.destination(destination_id)
    started = time.monotonic()
    with scrubbed(f"prepare identifiers for {destination_id}"), connect() as con:
        con.register("members", parquet_io.read_dataset(identities_uri))
        prepare_members(con, spec, destination)
        members = con.execute("SELECT count(*) FROM usable").fetchall()[0][0]
        by_type = dict(con.execute("SELECT id_type, count(*) FROM prepared GROUP BY 1 ORDER BY 1").fetchall())
        reader = fetch_reader(con, "SELECT * FROM prepared")
        written = parquet_io.write_atomically(out_uri, reader, reader.schema)
    return PreparedSummary(
        destination_id, out_uri, members, written.rows, by_type, round(time.monotonic() - started, 3)
    )
