"""The validate step: snapshot -> identities (one valid row per member) + quarantine + counts.

Reads the run's snapshot Parquet, checks every identifier in DuckDB (``checks.py``), and writes two
run-scoped Parquet files: ``identities.parquet`` (member key, canonical identifiers, reason codes,
consent; the input of ``prepare``) and ``quarantine.parquet`` (member key, destination id or ``*``,
reason codes; never identifier values). Returns counts only: safe for logs, XCom and history.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import duckdb

from behavior_sync import parquet_io
from behavior_sync.identity import reasons as r
from behavior_sync.identity.checks import build_members, identifiable_sql
from behavior_sync.identity.consent import consent_sql
from behavior_sync.identity.engine import connect, fetch_reader, register_parquet, scrubbed
from behavior_sync.identity.rules import sendable_sql
from behavior_sync.identity.spec import DestinationSpec, IdentitySpec


@dataclass(frozen=True)
class ValidationSummary:
    """Counts of one validation (no identifier values): what history and the quality gate read."""

    rows: int
    members: int
    dropped: Mapping[str, int]  # duplicate_member_key / member_key_missing -> rows
    fields: Mapping[str, Mapping[str, Any]]  # field -> {present, valid, invalid: {reason: n}}
    destinations: Mapping[str, Mapping[str, Any]]  # destination id -> {usable, quarantined, reasons}
    metrics: Mapping[str, float]  # the quality gate's inputs
    identities_uri: str = ""
    quarantine_uri: str = ""
    seconds: float = 0.0
    extra: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-serializable form (for XCom and history details)."""
        return asdict(self)


def matchable_sql(spec: IdentitySpec, destination: DestinationSpec) -> str:
    """SQL over a ``members`` row: the member has an identifier ``destination`` can match on."""
    strong = [rule for rule in spec.rules(destination) if rule.strong]
    checks = [sendable_sql(rule, spec.prehashed) for rule in strong]
    return "(" + (" OR ".join(checks) or "false") + ")"


def usable_sql(spec: IdentitySpec, destination: DestinationSpec) -> str:
    """SQL over a ``members`` row: the member is matchable and its consent allows ``destination``
    (``identity.consent``)."""
    return f"({matchable_sql(spec, destination)} AND {consent_sql(spec, destination)})"


def _reason_list_sql(spec: IdentitySpec, destination: DestinationSpec) -> str:
    first = [
        f"CASE WHEN NOT {matchable_sql(spec, destination)} THEN '{r.NO_USABLE_IDENTIFIER}' END",
        f"CASE WHEN NOT {consent_sql(spec, destination)} THEN '{r.CONSENT_NOT_GRANTED}' END",
    ]
    unusable = [
        f"CASE WHEN {name} IS NOT NULL THEN '{r.hash_unusable(name)}' END"
        for name in spec.unusable_prehashed(destination)
    ]
    reasons = ", ".join([*first, *(f"{name}_reason" for name in spec.fields()), *unusable])
    return f"list_filter([{reasons}], lambda x: x IS NOT NULL)"


def quarantine_sql(spec: IdentitySpec) -> str:
    """SQL of the quarantine rows: dropped rows for every destination, unusable members per destination."""
    parts = [f"SELECT member_key, '{r.ALL_DESTINATIONS}' AS destination_id, [reason] AS reasons FROM dropped"]
    parts += [
        f"SELECT member_key, '{d.id}' AS destination_id, {_reason_list_sql(spec, d)} AS reasons "
        f"FROM members WHERE NOT {usable_sql(spec, d)}"
        for d in spec.destinations
    ]
    return " UNION ALL ".join(parts)


def validate_members(con: duckdb.DuckDBPyConnection, source: str, spec: IdentitySpec) -> ValidationSummary:
    """Checks the rows of the SQL ``source``; leaves tables ``members`` and ``quarantine`` in ``con``."""
    build_members(con, source, spec)
    con.execute(f"CREATE OR REPLACE TEMP TABLE quarantine AS {quarantine_sql(spec)}")
    rows, members = _one(con, "SELECT (SELECT count(*) FROM checked), (SELECT count(*) FROM members)")
    dropped = dict(con.execute("SELECT reason, count(*) FROM dropped GROUP BY 1 ORDER BY 1").fetchall())
    return ValidationSummary(
        rows=rows,
        members=members,
        dropped=dropped,
        fields=_field_counts(con, spec),
        destinations={d.id: _destination_counts(con, d.id, members) for d in spec.destinations},
        metrics=_metrics(con, spec, rows),
    )


def _one(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> tuple[Any, ...]:
    rows = con.execute(sql, params).fetchall()  # fetchall: DuckDB refuses new work while a result is open
    return tuple(rows[0])


def _field_counts(con: duckdb.DuckDBPyConnection, spec: IdentitySpec) -> dict[str, dict[str, Any]]:
    """Per mapped field: values present, valid, and invalid by reason (two scans in all)."""
    names = spec.fields()
    if not names:
        return {}
    row = _one(con, "SELECT " + ", ".join(f"count(raw_{n}), count({n})" for n in names) + " FROM checked")
    reasons = " UNION ALL ".join(f"SELECT '{n}' AS field, {n}_reason AS reason FROM checked" for n in names)
    invalid = con.execute(
        f"SELECT field, reason, count(*) FROM ({reasons}) WHERE reason IS NOT NULL GROUP BY ALL ORDER BY ALL"
    ).fetchall()
    counts: dict[str, dict[str, Any]] = {
        n: {"present": row[2 * i], "valid": row[2 * i + 1], "invalid": {}} for i, n in enumerate(names)
    }
    for name, reason, n in invalid:
        counts[name]["invalid"][reason] = n
    return counts


def _destination_counts(con: duckdb.DuckDBPyConnection, destination_id: str, members: int) -> dict[str, Any]:
    reasons = con.execute(
        "SELECT reason, count(*) FROM (SELECT unnest(reasons) AS reason FROM quarantine WHERE destination_id = ?) "
        "GROUP BY 1 ORDER BY 1",
        [destination_id],
    ).fetchall()
    counts = dict(reasons)
    quarantined = _one(con, "SELECT count(*) FROM quarantine WHERE destination_id = ?", [destination_id])[0]
    return {"usable": members - quarantined, "quarantined": quarantined, "reasons": counts}


def _metrics(con: duckdb.DuckDBPyConnection, spec: IdentitySpec, rows: int) -> dict[str, float]:
    """The quality gate's inputs: shares in 0..1 (a share over nothing is 0 for invalid, 1 for identifiable)."""
    nulls = _one(con, "SELECT count(*) FROM checked WHERE member_key IS NULL")[0]
    identifiable = _one(con, f"SELECT avg(({identifiable_sql(spec)})::DOUBLE) FROM members")[0]
    metrics = {
        "rows": float(rows),
        "member_key_nulls": float(nulls),
        "identifiable_share": 1.0 if identifiable is None else round(float(identifiable), 6),
    }
    for name in ("email", "phone"):
        share = None
        if name in spec.identifiers:
            share = _one(con, f"SELECT count({name}_reason) / nullif(count(raw_{name}), 0) FROM checked")[0]
        metrics[f"invalid_{name}_share"] = 0.0 if share is None else round(float(share), 6)
    return metrics


def validate_snapshot(snapshot_uri: str, out_dir: str, spec: IdentitySpec) -> ValidationSummary:
    """Validates the snapshot at ``snapshot_uri``; writes identities.parquet and quarantine.parquet into ``out_dir``.

    Idempotent (files are replaced atomically). Raises ``IdentityError`` (no values in its text) on
    storage or engine failures.
    """
    started = time.monotonic()
    with scrubbed("validate identifiers"), connect() as con:
        register_parquet(con, "snapshot", snapshot_uri)
        summary = validate_members(con, "SELECT * FROM snapshot", spec)
        identities_uri, quarantine_uri = f"{out_dir}/identities.parquet", f"{out_dir}/quarantine.parquet"
        reader = fetch_reader(con, "SELECT * FROM members")
        parquet_io.write_atomically(identities_uri, reader, reader.schema)
        reader = fetch_reader(con, "SELECT * FROM quarantine")
        parquet_io.write_atomically(quarantine_uri, reader, reader.schema)
    return ValidationSummary(
        **{
            **asdict(summary),
            "identities_uri": identities_uri,
            "quarantine_uri": quarantine_uri,
            "seconds": round(time.monotonic() - started, 3),
        }
    )
