"""The prepare step: identities -> per destination, one row per (member, identifier) as the destination wants it.

Output (``prepared.parquet`` per destination): ``member_key``, ``id_type`` (the rule's id, e.g.
``email``, ``first_initial``, ``address``), ``value`` (SHA-256 hex where the destination hashes, the
normalized plain value where it takes plain values, e.g. HubSpot and CleverTap). Only members with an
identifier the destination can match on are written (the others are in the quarantine file). This
is the input of the add/remove planner.

Cost: identifiers with few distinct values (names, cities, postal codes, countries, birth dates,
genders) are normalized and hashed once per distinct value and looked up; the others row by row.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import duckdb
import pyarrow as pa

from behavior_sync import parquet_io
from behavior_sync.identity.engine import connect, fetch_reader, register_parquet, scrubbed
from behavior_sync.identity.rules import Rule, value_sql
from behavior_sync.identity.spec import DestinationSpec, IdentitySpec
from behavior_sync.identity.validate import usable_sql

PREPARED_SCHEMA = pa.schema([("member_key", pa.string()), ("id_type", pa.string()), ("value", pa.string())])
# Fields with few distinct values: their rules run once per distinct value (a dictionary), not per row.
LOW_CARDINALITY = frozenset(
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


def _leaves(rules: tuple[Rule, ...]) -> list[Rule]:
    """The rules and the parts of composite rules: what is computed value by value."""
    return [leaf for rule in rules for leaf in rule.parts or (rule,)]


def _dictionary_groups(rules: tuple[Rule, ...], spec: IdentitySpec) -> dict[tuple[str, ...], list[Rule]]:
    """Leaf rules over low-cardinality, not pre-hashed fields, grouped by their source columns."""
    groups: dict[tuple[str, ...], list[Rule]] = {}
    for leaf in _leaves(rules):
        if leaf.sources[0] in LOW_CARDINALITY and leaf.sources[0] not in spec.prehashed:
            groups.setdefault(leaf.sources, []).append(leaf)
    return groups


def _column(leaf: Rule) -> str:
    return f"v_{leaf.id_type}"


def _dictionary_ctes(groups: dict[tuple[str, ...], list[Rule]], spec: IdentitySpec) -> list[str]:
    ctes = []
    for i, (sources, leaves) in enumerate(groups.items()):
        values = ", ".join(f"{value_sql(leaf, spec.prehashed)} AS {_column(leaf)}" for leaf in leaves)
        keys = ", ".join(sources)
        ctes.append(f"d{i} AS (SELECT {keys}, {values} FROM (SELECT DISTINCT {keys} FROM usable))")
    return ctes


def wide_sql(spec: IdentitySpec, destination: DestinationSpec) -> str:
    """SQL over table ``usable``: one row per member, a column per identifier type (NULL: not sent).

    Low-cardinality fields come from dictionaries (computed per distinct value), the others row-wise.
    """
    rules = spec.rules(destination)
    groups = _dictionary_groups(rules, spec)
    from_dict = {leaf.id_type: f"d{i}.{_column(leaf)}" for i, leaves in enumerate(groups.values()) for leaf in leaves}
    joins = " ".join(
        f"LEFT JOIN d{i} ON " + " AND ".join(f"d{i}.{s} IS NOT DISTINCT FROM u.{s}" for s in sources)
        for i, sources in enumerate(groups)
    )

    def leaf_sql(leaf: Rule) -> str:
        return from_dict.get(leaf.id_type) or value_sql(leaf, spec.prehashed, table="u.")

    def rule_sql(rule: Rule) -> str:
        return " || ':' || ".join(leaf_sql(part) for part in rule.parts) if rule.parts else leaf_sql(rule)

    columns = "".join(f", ({rule_sql(rule)}) AS {rule.id_type}" for rule in rules)
    with_clause = f"WITH {', '.join(_dictionary_ctes(groups, spec))} " if groups else ""
    return f"{with_clause}SELECT u.member_key{columns} FROM usable AS u {joins}"


def block_sql(id_type: str, table: str = "prepared_wide") -> str:
    """SQL over the wide ``table``: the prepared rows of one identifier type."""
    return f"SELECT member_key, '{id_type}' AS id_type, {id_type} AS value FROM {table} WHERE {id_type} IS NOT NULL"


def prepared_sql(spec: IdentitySpec, destination: DestinationSpec, table: str = "prepared_wide") -> str:
    """SQL over the wide ``table``: every prepared row (long format), grouped by identifier type."""
    blocks = [block_sql(rule.id_type, table) for rule in spec.rules(destination)]
    empty = f"SELECT member_key, CAST(NULL AS VARCHAR) AS id_type, CAST(NULL AS VARCHAR) AS value FROM {table}"
    return " UNION ALL ".join(blocks) or f"{empty} LIMIT 0"


def prepare_members(
    con: duckdb.DuckDBPyConnection, spec: IdentitySpec, destination: DestinationSpec, table: str = "prepared_wide"
) -> int:
    """From table ``members`` creates the view ``usable`` (members the destination can match) and the wide ``table``.

    Returns the number of usable members.
    """
    con.execute(f"CREATE OR REPLACE TEMP VIEW usable AS SELECT * FROM members WHERE {usable_sql(spec, destination)}")
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS {wide_sql(spec, destination)}")
    return int(con.execute("SELECT count(*) FROM usable").fetchall()[0][0])


def prepare_destinations(
    identities_uri: str, spec: IdentitySpec, outputs: Mapping[str, str]
) -> dict[str, PreparedSummary]:
    """Writes the prepared rows of each destination id in ``outputs`` to its URI (atomic, idempotent).

    The identities are read once for all destinations. Raises ``IdentityError`` (no values in its
    text) on storage or engine failures, KeyError for an unknown destination id.
    """
    summaries = {}
    with scrubbed("prepare identifiers"), connect() as con:
        register_parquet(con, "identities", identities_uri)
        con.execute("CREATE TEMP TABLE members AS SELECT * FROM identities")
        for destination_id, uri in outputs.items():
            summaries[destination_id] = _prepare_one(con, spec, spec.destination(destination_id), uri)
    return summaries


def _prepare_one(
    con: duckdb.DuckDBPyConnection, spec: IdentitySpec, destination: DestinationSpec, uri: str
) -> PreparedSummary:
    started = time.monotonic()
    members = prepare_members(con, spec, destination)
    counts: dict[str, int] = {}
    id_types = [rule.id_type for rule in spec.rules(destination)]
    written = parquet_io.write_atomically(uri, _blocks(con, id_types, counts), PREPARED_SCHEMA, compression_level=1)
    con.execute("DROP TABLE prepared_wide")
    return PreparedSummary(destination.id, uri, members, written.rows, counts, round(time.monotonic() - started, 3))


def _blocks(con: duckdb.DuckDBPyConnection, id_types: list[str], counts: dict[str, int]) -> Iterator[pa.RecordBatch]:
    """The prepared rows one identifier type after the other (Parquet then dictionary-encodes the repetitive
    ones); ``counts`` receives the rows per type."""
    for id_type in id_types:
        counts[id_type] = 0
        for batch in fetch_reader(con, block_sql(id_type)):
            counts[id_type] += batch.num_rows
            yield batch.cast(PREPARED_SCHEMA)


def prepare_destination(identities_uri: str, out_uri: str, spec: IdentitySpec, destination_id: str) -> PreparedSummary:
    """One destination's ``prepare_destinations``."""
    return prepare_destinations(identities_uri, spec, {destination_id: out_uri})[destination_id]
