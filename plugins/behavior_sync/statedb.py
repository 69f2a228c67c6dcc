"""The state database: sync history, committed-state pointers, the batch ledger and row rejections.

Any SQLAlchemy URL (SQLite by default, PostgreSQL in production). The schema is created and
migrated by ``ensure_schema``: versioned, idempotent, safe when several tasks call it at once on a
new database. Nothing here holds raw identifiers or credentials: member keys are stored as SHA-256.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import sqlalchemy as sa

metadata = sa.MetaData()

schema_version = sa.Table(
    "bsync_schema_version",
    metadata,
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
)

# Counts of a run, added in version 2 (nullable: steps that did not run leave them empty).
COUNT_COLUMNS = (
    "invalid",
    "quarantined",
    "adds",
    "removes",
    "unchanged",
    "sent",
    "acknowledged",
    "rejected",
    "audience_size",
    "api_calls",
    "retries",
)

sync_history = sa.Table(
    "bsync_sync_history",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("behavior", sa.String(64), nullable=False),
    sa.Column("destination_id", sa.String(64), nullable=False),
    sa.Column("destination_type", sa.String(32), nullable=False),
    sa.Column("connection_id", sa.String(250), nullable=False),
    sa.Column("run_id", sa.String(250), nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("message", sa.Text, nullable=False, default=""),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("extracted_rows", sa.BigInteger, nullable=True),
    sa.Column("snapshot_bytes", sa.BigInteger, nullable=True),
    sa.Column("extract_seconds", sa.Float, nullable=True),
    sa.Column("details", sa.Text, nullable=False, default="{}"),
    sa.Column("audience_id", sa.String(250), nullable=True),
    sa.Column("audience_name", sa.String(500), nullable=True),
    *(sa.Column(name, sa.BigInteger, nullable=True) for name in COUNT_COLUMNS),
    sa.Column("match_rate", sa.Float, nullable=True),
    sa.Column("durations", sa.Text, nullable=True),  # JSON: step -> seconds
    sa.Column("errors", sa.Text, nullable=True),  # JSON: [{code, count, message}]
    sa.UniqueConstraint("behavior", "destination_id", "run_id", name="uq_bsync_history_run"),
    sa.Index("ix_bsync_history_behavior_dest", "behavior", "destination_id", "finished_at"),
)

state_pointer = sa.Table(
    "bsync_state_pointer",
    metadata,
    sa.Column("behavior", sa.String(64), primary_key=True),
    sa.Column("destination_id", sa.String(64), primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("uri", sa.Text, nullable=False),
    sa.Column("members", sa.BigInteger, nullable=False),
    sa.Column("rows", sa.BigInteger, nullable=False),
    sa.Column("run_id", sa.String(250), nullable=False),
    sa.Column("committed_at", sa.DateTime(timezone=True), nullable=False),
    # version 4: the state's member fingerprints (member_key, fp) that let prepare skip unchanged members
    sa.Column("members_uri", sa.Text, nullable=True),
)

# Version 4: objects a destination created or found for a behavior (an audience, a list, a property),
# so the next run reuses them instead of searching by name.
destination_objects = sa.Table(
    "bsync_destination_objects",
    metadata,
    sa.Column("behavior", sa.String(64), primary_key=True),
    sa.Column("destination_id", sa.String(64), primary_key=True),
    sa.Column("kind", sa.String(32), primary_key=True),  # e.g. audience, list, property
    sa.Column("object_id", sa.String(250), nullable=False),
    sa.Column("name", sa.String(500), nullable=False),
    sa.Column("account", sa.String(250), nullable=False),  # the ad account / portal / customer it lives in
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

batch_ledger = sa.Table(
    "bsync_batch_ledger",
    metadata,
    sa.Column("behavior", sa.String(64), primary_key=True),
    sa.Column("destination_id", sa.String(64), primary_key=True),
    sa.Column("run_id", sa.String(250), primary_key=True),
    sa.Column("plan_base", sa.Integer, primary_key=True),  # the state version the plan started from (0: none)
    sa.Column("op", sa.String(16), primary_key=True),
    sa.Column("batch_no", sa.Integer, primary_key=True),
    sa.Column("rows", sa.BigInteger, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # sending | acknowledged
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("accepted", sa.BigInteger, nullable=True),
    sa.Column("rejected", sa.BigInteger, nullable=True),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
)

# Version 5: every plan a load started, so a later run can fold what an earlier, never committed run got
# acknowledged into the state before planning (a crashed, failed or deleted run; sync/fold.py).
plans = sa.Table(
    "bsync_plans",
    metadata,
    sa.Column("behavior", sa.String(64), primary_key=True),
    sa.Column("destination_id", sa.String(64), primary_key=True),
    sa.Column("run_id", sa.String(250), primary_key=True),
    sa.Column("plan_base", sa.Integer, primary_key=True),
    sa.Column("plan_uri", sa.Text, nullable=False),
    sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("folded_by", sa.String(250), nullable=True),  # the later run that committed it
    sa.Column("folded_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("folded_batches", sa.Integer, nullable=True),
    sa.Column("folded_rows", sa.BigInteger, nullable=True),
    sa.Index("ix_bsync_plans_folded_by", "behavior", "destination_id", "folded_by"),
)

# Version 6: what a destination held when read back (reconcile, sync/reconcile.py): one row per check of a
# behavior x destination. Counts only, never identifiers (hashed keys, when needed, go to run artifacts).
drift_checks = sa.Table(
    "bsync_drift",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("behavior", sa.String(64), nullable=False),
    sa.Column("destination_id", sa.String(64), nullable=False),
    sa.Column("destination_type", sa.String(32), nullable=False),
    sa.Column("run_id", sa.String(250), nullable=False),
    sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("method", sa.String(16), nullable=False),  # exact | sampled | count
    sa.Column("status", sa.String(16), nullable=False),  # in_sync | drift | unknown
    sa.Column("state_version", sa.Integer, nullable=True),  # the committed state compared against
    sa.Column("committed", sa.BigInteger, nullable=True),  # committed members (or key values) compared
    sa.Column("observed", sa.BigInteger, nullable=True),  # the destination's count / members found
    sa.Column("sample_size", sa.BigInteger, nullable=True),
    sa.Column("missing", sa.BigInteger, nullable=True),  # committed, not in the destination
    sa.Column("unexpected", sa.BigInteger, nullable=True),  # in the destination, not committed
    sa.Column("foreign_members", sa.BigInteger, nullable=True),  # of the unexpected: never added by us
    sa.Column("tolerance", sa.String(250), nullable=False, default=""),  # the rule applied, in words
    sa.Column("expected_low", sa.BigInteger, nullable=True),  # count the destination may report: low end
    sa.Column("expected_high", sa.BigInteger, nullable=True),
    sa.Column("missing_share", sa.Float, nullable=True),  # sampled: estimated share of members missing
    sa.Column("ci_low", sa.Float, nullable=True),
    sa.Column("ci_high", sa.Float, nullable=True),
    sa.Column("confidence", sa.Float, nullable=True),  # e.g. 0.95 (Wilson interval)
    sa.Column("repaired_missing", sa.BigInteger, nullable=True),  # repair: members queued to be re-sent
    sa.Column("repaired_unexpected", sa.BigInteger, nullable=True),  # repair: our values queued for removal
    sa.Column("message", sa.Text, nullable=False, default=""),
    sa.Column("details", sa.Text, nullable=False, default="{}"),  # JSON, counts only
    sa.Index("ix_bsync_drift_behavior_dest", "behavior", "destination_id", "checked_at"),
)

# Version 7: the vendors' reporting for the audiences we created, read back daily (behavior_sync.performance):
# one row per behavior x destination x day x reporting object (a Meta ad set, a Google campaign or ad group, a
# HubSpot marketing e-mail). A read of a day range replaces that range's rows (idempotent). NULL: not reported
# (e.g. conversion_value where no purchase value is tracked); money in the account's currency.
performance = sa.Table(
    "bsync_performance",
    metadata,
    sa.Column("behavior", sa.String(64), primary_key=True),
    sa.Column("destination_id", sa.String(64), primary_key=True),
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("object_type", sa.String(16), primary_key=True),  # adset | campaign | ad_group | email
    sa.Column("object_id", sa.String(64), primary_key=True),
    sa.Column("destination_type", sa.String(32), nullable=False),
    sa.Column("audience_id", sa.String(250), nullable=False),  # our audience / user list / list the object uses
    sa.Column("object_name", sa.String(500), nullable=False, default=""),
    sa.Column("currency", sa.String(8), nullable=True),
    sa.Column("impressions", sa.BigInteger, nullable=True),
    sa.Column("clicks", sa.BigInteger, nullable=True),  # ad clicks, or e-mail clicks
    sa.Column("spend", sa.Float, nullable=True),
    sa.Column("conversions", sa.Float, nullable=True),
    sa.Column("conversion_value", sa.Float, nullable=True),
    sa.Column("sent", sa.BigInteger, nullable=True),
    sa.Column("delivered", sa.BigInteger, nullable=True),
    sa.Column("opens", sa.BigInteger, nullable=True),
    sa.Column("unsubscribes", sa.BigInteger, nullable=True),
    sa.Column("run_id", sa.String(250), nullable=False),
    sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_bsync_performance_day", "day", "behavior"),
)

rejections = sa.Table(
    "bsync_rejections",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("behavior", sa.String(64), nullable=False),
    sa.Column("destination_id", sa.String(64), nullable=False),
    sa.Column("run_id", sa.String(250), nullable=False),
    sa.Column("plan_base", sa.Integer, nullable=False),
    sa.Column("op", sa.String(16), nullable=False),
    sa.Column("batch_no", sa.Integer, nullable=False),
    sa.Column("member_key_hash", sa.String(64), nullable=False),
    sa.Column("id_type", sa.String(32), nullable=False),
    sa.Column("vendor_code", sa.String(64), nullable=False),
    sa.Column("message", sa.Text, nullable=False),
    sa.Index("ix_bsync_rejections_run", "behavior", "destination_id", "run_id"),
)


def _v1_create_history(conn: sa.Connection) -> None:
    sync_history.create(conn, checkfirst=True)


def _add_missing_columns(conn: sa.Connection, table: sa.Table) -> None:
    """Adds the model's (nullable) columns an older ``table`` lacks (a new table already has them)."""
    present = {c["name"] for c in sa.inspect(conn).get_columns(table.name)}
    for column in table.columns:
        if column.name not in present:
            kind = column.type.compile(dialect=conn.dialect)
            conn.execute(sa.text(f"ALTER TABLE {table.name} ADD COLUMN {column.name} {kind}"))


def _v2_history_counts(conn: sa.Connection) -> None:
    _add_missing_columns(conn, sync_history)


def _v3_state_and_ledger(conn: sa.Connection) -> None:
    for table in (state_pointer, batch_ledger, rejections):
        table.create(conn, checkfirst=True)


def _v4_fingerprints_and_objects(conn: sa.Connection) -> None:
    _add_missing_columns(conn, state_pointer)
    destination_objects.create(conn, checkfirst=True)


def _v5_plans(conn: sa.Connection) -> None:
    plans.create(conn, checkfirst=True)


def _v6_drift(conn: sa.Connection) -> None:
    drift_checks.create(conn, checkfirst=True)


def _v7_performance(conn: sa.Connection) -> None:
    performance.create(conn, checkfirst=True)


MIGRATIONS: Sequence[tuple[int, Callable[[sa.Connection], None]]] = (
    (1, _v1_create_history),
    (2, _v2_history_counts),
    (3, _v3_state_and_ledger),
    (4, _v4_fingerprints_and_objects),
    (5, _v5_plans),
    (6, _v6_drift),
    (7, _v7_performance),
)
LATEST_VERSION = MIGRATIONS[-1][0]


class StateDatabase:
    """An engine on the state database and its migrations."""

    def __init__(self, url: str) -> None:
        self.engine = create_state_engine(url)

    def close(self) -> None:
        """Release the engine's connections."""
        self.engine.dispose()

    def ensure_schema(self) -> int:
        """Apply pending migrations in order, each in its own transaction; returns the schema version.

        Idempotent and safe when several tasks call it at once on a new database: a migration that
        loses the race (duplicate table or version row) is accepted once the winner's version row is seen.
        """
        self._race_tolerant(partial(schema_version.create, checkfirst=True), self._has_version_table)
        for version, migrate in MIGRATIONS:
            if not self._is_applied(version):
                self._race_tolerant(
                    partial(_apply, version=version, migrate=migrate), partial(self._is_applied, version)
                )
        return max(self._applied_versions(), default=0)

    def _race_tolerant(self, step: Callable[[sa.Connection], None], done: Callable[[], bool]) -> None:
        try:
            with self.engine.begin() as conn:
                step(conn)
        except sa.exc.DBAPIError:
            if not done():
                raise

    def _is_applied(self, version: int) -> bool:
        return version in self._applied_versions()

    def _has_version_table(self) -> bool:
        return sa.inspect(self.engine).has_table(schema_version.name)

    def _applied_versions(self) -> set[int]:
        with self.engine.connect() as conn:
            return {row[0] for row in conn.execute(sa.select(schema_version.c.version))}


def create_state_engine(url: str) -> sa.Engine:
    """Engine for the state database.

    For SQLite, transactions are made real and serialized: pysqlite would otherwise autocommit DDL
    outside the transaction, and writers would fail at once on a lock. Each transaction starts with
    ``BEGIN IMMEDIATE`` and waits up to 30 s for the write lock.
    """
    if not url.startswith("sqlite"):
        return sa.create_engine(url)
    engine = sa.create_engine(url, connect_args={"timeout": 30})
    sa.event.listen(engine, "connect", _sqlite_manual_transactions)
    sa.event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))
    return engine


def _sqlite_manual_transactions(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # let SQLAlchemy's "begin" event issue BEGIN


def _apply(conn: sa.Connection, version: int, migrate: Callable[[sa.Connection], None]) -> None:
    migrate(conn)
    conn.execute(schema_version.insert().values(version=version, applied_at=now()))


def now() -> dt.datetime:
    """Aware UTC now."""
    return dt.datetime.now(dt.UTC)
