"""The prepare step: identities -> per destination, one row per (member, identifier) as the destination wants it.

Outputs per destination (run-scoped):

* ``prepared.parquet``: ``member_key``, ``id_type`` (the rule's id, e.g. ``email``, ``first_initial``,
  ``address``), ``value`` (SHA-256 hex where the destination hashes, the normalized plain value where
  it takes plain values, e.g. HubSpot and CleverTap); the input of the add/remove planner.
* ``members.parquet``: every member the destination can match on (the others are in the quarantine
  file): ``member_key``, ``fp`` (a 64-bit fingerprint of the member's inputs to this destination's
  rules, seeded with a digest of the rules' SQL) and ``changed``.

Incremental: given the fingerprints of the destination's committed state (``PrepareTarget.base_*``),
only members whose fingerprint differs (new, changed, or not fully acknowledged last time) are
prepared and written to ``prepared.parquet``, flagged ``changed``; the others are already in the
destination exactly as they would be prepared now. Without a base every member is prepared. A
fingerprint only ever decides to skip work: a mismatch costs a re-prepare, never a wrong plan.

Cost: identifiers with few distinct values (names, cities, postal codes, countries, birth dates,
genders) are normalized and hashed once per distinct value and looked up; the others row by row.
Writing a destination's files overlaps with computing the next destination's values.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
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
MEMBERS_SCHEMA = pa.schema([("member_key", pa.string()), ("fp", pa.uint64()), ("changed", pa.bool_())])
# Fields with few distinct values: their rules run once per distinct value (a dictionary), not per row.
LOW_CARDINALITY = frozenset(
    {"first_name", "last_name", "city", "state", "postal_code", "country", "date_of_birth", "gender"}
)
# Bump when the meaning of prepared rows changes in a way the rules' SQL does not show.
FINGERPRINT_FORMAT = "1"


@dataclass(frozen=True)
class PrepareTarget:
    """Where one destination's prepare writes, and the committed fingerprints it may skip against.

    ``base_version`` is the committed state version whose fingerprints are at ``base_members_uri``
    (0 and None: no base, every member is prepared). ``summary_uri``: where the summary is written as
    JSON (the plan step reads it), if anywhere.
    """

    prepared_uri: str
    members_uri: str
    base_version: int = 0
    base_members_uri: str | None = None
    summary_uri: str | None = None


@dataclass(frozen=True)
class PreparedSummary:
    """What one destination's prepare wrote: counts only.

    ``members`` are all usable members, ``changed_members`` those prepared now (all without a base),
    ``rows`` the prepared rows written; ``base_version`` as in ``PrepareTarget`` (0: a full prepare).
    """

    destination_id: str
    uri: str
    members_uri: str
    members: int
    changed_members: int
    rows: int
    by_type: Mapping[str, int]
    base_version: int
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


def _dictionary_ctes(groups: dict[tuple[str, ...], list[Rule]], spec: IdentitySpec, source: str) -> list[str]:
    ctes = []
    for i, (sources, leaves) in enumerate(groups.items()):
        values = ", ".join(f"{value_sql(leaf, spec.prehashed)} AS {_column(leaf)}" for leaf in leaves)
        keys = ", ".join(sources)
        ctes.append(f"d{i} AS (SELECT {keys}, {values} FROM (SELECT DISTINCT {keys} FROM {source}))")
    return ctes


def wide_sql(spec: IdentitySpec, destination: DestinationSpec, source: str = "usable") -> str:
    """SQL over table ``source``: one row per member, a column per identifier type (NULL: not sent).

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
    with_clause = f"WITH {', '.join(_dictionary_ctes(groups, spec, source))} " if groups else ""
    return f"{with_clause}SELECT u.member_key{columns} FROM {source} AS u {joins}"


def fingerprint_sql(spec: IdentitySpec, destination: DestinationSpec) -> str:
    """SQL expression over a member row: the fingerprint of everything ``destination``'s rules read.

    Seeded with a digest of the rules' SQL (and ``FINGERPRINT_FORMAT``), so changed rules, mappings or
    pre-hashed columns change every fingerprint and the next prepare redoes every member.
    """
    sources = sorted({source for leaf in _leaves(spec.rules(destination)) for source in leaf.sources})
    digest = hashlib.sha256(f"{FINGERPRINT_FORMAT}\n{wide_sql(spec, destination)}".encode()).hexdigest()[:32]
    return f"hash('{digest}', {', '.join(sources)})" if sources else f"hash('{digest}')"


def block_sql(id_type: str, table: str = "prepared_wide") -> str:
    """SQL over the wide ``table``: the prepared rows of one identifier type."""
    return f"SELECT member_key, '{id_type}' AS id_type, {id_type} AS value FROM {table} WHERE {id_type} IS NOT NULL"


def prepared_sql(spec: IdentitySpec, destination: DestinationSpec, table: str = "prepared_wide") -> str:
    """SQL over the wide ``table``: every prepared row (long format), grouped by identifier type."""
    blocks = [block_sql(rule.id_type, table) for rule in spec.rules(destination)]
    empty = f"SELECT member_key, CAST(NULL AS VARCHAR) AS id_type, CAST(NULL AS VARCHAR) AS value FROM {table}"
    return " UNION ALL ".join(blocks) or f"{empty} LIMIT 0"


def prepare_members(
    con: duckdb.DuckDBPyConnection,
    spec: IdentitySpec,
    destination: DestinationSpec,
    table: str = "prepared_wide",
    base: str | None = None,
) -> tuple[int, int]:
    """From table ``members``: the wide ``table`` of the members to prepare and ``<table>_members``.

    ``<table>_members`` (member_key, fp, changed) holds every usable member; with ``base`` (a relation
    of committed member_key, fp) only members whose fingerprint is not in it are ``changed`` and
    prepared. Both are plain tables of the connection's database (other cursors can read them).
    Returns (usable members, changed members).
    """
    con.execute(f"CREATE OR REPLACE TEMP VIEW usable AS SELECT * FROM members WHERE {usable_sql(spec, destination)}")
    fps = f"SELECT member_key, {fingerprint_sql(spec, destination)} AS fp FROM usable"
    committed = base or "(SELECT CAST(NULL AS VARCHAR) AS member_key, CAST(NULL AS UBIGINT) AS fp LIMIT 0)"
    con.execute(
        f"CREATE OR REPLACE TABLE {table}_members AS SELECT f.member_key, f.fp, b.fp IS DISTINCT FROM f.fp AS changed "
        f"FROM ({fps}) AS f LEFT JOIN (SELECT member_key, fp FROM {committed}) AS b USING (member_key)"
    )
    con.execute(
        "CREATE OR REPLACE TEMP VIEW usable_changed AS SELECT * FROM usable "
        f"SEMI JOIN (SELECT member_key FROM {table}_members WHERE changed) USING (member_key)"
    )
    con.execute(f"CREATE OR REPLACE TABLE {table} AS {wide_sql(spec, destination, 'usable_changed')}")
    usable, changed_count = con.execute(f"SELECT count(*), count(*) FILTER (changed) FROM {table}_members").fetchall()[
        0
    ]
    return int(usable), int(changed_count)


def prepare_destinations(
    identities_uri: str, spec: IdentitySpec, targets: Mapping[str, PrepareTarget]
) -> dict[str, PreparedSummary]:
    """Writes the prepared rows and member fingerprints of each destination id in ``targets`` (atomic,
    idempotent).

    The identities are read once for all destinations; a destination's files are written by a
    second thread while the next destination's values are computed. Raises ``IdentityError`` (no
    values in its text) on storage or engine failures, KeyError for an unknown destination id.
    """
    summaries: dict[str, PreparedSummary] = {}
    with scrubbed("prepare identifiers"), connect() as con, ThreadPoolExecutor(1, "prepare-writer") as writer:
        register_parquet(con, "identities", identities_uri)
        con.execute("CREATE TEMP TABLE members AS SELECT * FROM identities")
        pending: Future[PreparedSummary] | None = None
        for i, (destination_id, target) in enumerate(targets.items()):
            started = time.monotonic()
            destination = spec.destination(destination_id)
            base = None
            if target.base_members_uri is not None:
                register_parquet(con, f"base_{i}", target.base_members_uri)
                base = f"base_{i}"
            members, changed = prepare_members(con, spec, destination, f"wide_{i}", base)
            if pending is not None:
                summary = pending.result()
                summaries[summary.destination_id] = summary
            job = _Job(destination, target, f"wide_{i}", members, changed, started)
            pending = writer.submit(_write_job, con.cursor(), spec, job)
        if pending is not None:
            summary = pending.result()
            summaries[summary.destination_id] = summary
    return summaries


@dataclass(frozen=True)
class _Job:
    destination: DestinationSpec
    target: PrepareTarget
    table: str
    members: int
    changed: int
    started: float


def _write_job(cursor: duckdb.DuckDBPyConnection, spec: IdentitySpec, job: _Job) -> PreparedSummary:
    """Writes one destination's prepared rows and members from its wide tables, then drops them."""
    with cursor:
        counts: dict[str, int] = {}
        id_types = [rule.id_type for rule in spec.rules(job.destination)]
        written = parquet_io.write_atomically(
            job.target.prepared_uri, _blocks(cursor, id_types, job.table, counts), PREPARED_SCHEMA, compression_level=1
        )
        members = fetch_reader(cursor, f"SELECT member_key, fp, changed FROM {job.table}_members")
        parquet_io.write_atomically(job.target.members_uri, members, MEMBERS_SCHEMA, compression_level=1)
        cursor.execute(f"DROP TABLE {job.table}; DROP TABLE {job.table}_members")
    summary = PreparedSummary(
        destination_id=job.destination.id,
        uri=job.target.prepared_uri,
        members_uri=job.target.members_uri,
        members=job.members,
        changed_members=job.changed,
        rows=written.rows,
        by_type=counts,
        base_version=job.target.base_version if job.target.base_members_uri else 0,
        seconds=round(time.monotonic() - job.started, 3),
    )
    if job.target.summary_uri is not None:
        parquet_io.write_text(job.target.summary_uri, json.dumps(summary.as_dict(), sort_keys=True))
    return summary


def read_summary(uri: str) -> PreparedSummary:
    """The summary a prepare wrote at ``uri`` (``PrepareTarget.summary_uri``)."""
    return PreparedSummary(**json.loads(parquet_io.read_text(uri)))


def _blocks(
    con: duckdb.DuckDBPyConnection, id_types: list[str], table: str, counts: dict[str, int]
) -> Iterator[pa.RecordBatch]:
    """The prepared rows one identifier type after the other (Parquet then dictionary-encodes the repetitive
    ones); ``counts`` receives the rows per type."""
    for id_type in id_types:
        counts[id_type] = 0
        for batch in fetch_reader(con, block_sql(id_type, table)):
            counts[id_type] += batch.num_rows
            yield batch.cast(PREPARED_SCHEMA)


def prepare_destination(
    identities_uri: str, out_uri: str, spec: IdentitySpec, destination_id: str, members_uri: str | None = None
) -> PreparedSummary:
    """One destination's full ``prepare_destinations`` (members next to ``out_uri`` unless given)."""
    members = members_uri or out_uri.rsplit("/", 1)[0] + f"/{destination_id}.members.parquet"
    return prepare_destinations(identities_uri, spec, {destination_id: PrepareTarget(out_uri, members)})[destination_id]
