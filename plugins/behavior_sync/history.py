"""Sync history: one row per (behavior, destination, run) in the state database.

The state database is any SQLAlchemy URL (SQLite by default, PostgreSQL in
production). Its schema is created and migrated by ``ensure_schema`` (versioned,
idempotent, safe to call from every task). History rows hold counts, statuses,
durations and messages: never raw identifiers (PII) and never credentials.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import partial
from typing import Any

import sqlalchemy as sa

STATUSES = frozenset(
    {"success", "partial", "failed", "blocked", "dry_run", "paused_too_small", "pending", "not_due", "not_implemented"}
)

metadata = sa.MetaData()

schema_version = sa.Table(
    "bsync_schema_version",
    metadata,
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
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
    sa.UniqueConstraint("behavior", "destination_id", "run_id", name="uq_bsync_history_run"),
    sa.Index("ix_bsync_history_behavior_dest", "behavior", "destination_id", "finished_at"),
)


def _v1_create_history(conn: sa.Connection) -> None:
    sync_history.create(conn, checkfirst=True)


MIGRATIONS: Sequence[tuple[int, Callable[[sa.Connection], None]]] = ((1, _v1_create_history),)


@dataclass(frozen=True)
class SyncRecord:
    """One sync-history row. ``details`` must be JSON-serializable counts/codes (no PII)."""

    behavior: str
    destination_id: str
    destination_type: str
    connection_id: str
    run_id: str
    status: str
    finished_at: dt.datetime
    message: str = ""
    started_at: dt.datetime | None = None
    extracted_rows: int | None = None
    snapshot_bytes: int | None = None
    extract_seconds: float | None = None
    details: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown sync status {self.status!r}; expected one of {sorted(STATUSES)}")


class HistoryStore:
    """Reads and writes sync history in the state database at ``url``."""

    def __init__(self, url: str) -> None:
        self._engine = create_state_engine(url)

    def close(self) -> None:
        """Release the engine's connections."""
        self._engine.dispose()

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
            with self._engine.begin() as conn:
                step(conn)
        except sa.exc.DBAPIError:
            if not done():
                raise

    def _is_applied(self, version: int) -> bool:
        return version in self._applied_versions()

    def _has_version_table(self) -> bool:
        return sa.inspect(self._engine).has_table(schema_version.name)

    def _applied_versions(self) -> set[int]:
        with self._engine.connect() as conn:
            return {row[0] for row in conn.execute(sa.select(schema_version.c.version))}

    def record(self, rec: SyncRecord) -> None:
        """Write ``rec``, replacing an earlier row of the same (behavior, destination, run): retries never duplicate."""
        values = asdict(rec) | {"details": json.dumps(dict(rec.details), sort_keys=True, default=str)}
        key = (
            (sync_history.c.behavior == rec.behavior)
            & (sync_history.c.destination_id == rec.destination_id)
            & (sync_history.c.run_id == rec.run_id)
        )
        with self._engine.begin() as conn:
            conn.execute(sync_history.delete().where(key))
            conn.execute(sync_history.insert().values(**values))

    def recent(
        self, behavior: str | None = None, destination_id: str | None = None, limit: int = 20
    ) -> list[SyncRecord]:
        """Latest rows first, optionally filtered by behavior and destination id."""
        query = (
            sa.select(sync_history).order_by(sync_history.c.finished_at.desc(), sync_history.c.id.desc()).limit(limit)
        )
        if behavior:
            query = query.where(sync_history.c.behavior == behavior)
        if destination_id:
            query = query.where(sync_history.c.destination_id == destination_id)
        with self._engine.connect() as conn:
            return [_to_record(row._mapping) for row in conn.execute(query)]


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
    conn.execute(schema_version.insert().values(version=version, applied_at=_now()))


def _to_record(row: sa.RowMapping) -> SyncRecord:
    values = {k: v for k, v in row.items() if k != "id"}
    values["details"] = json.loads(values["details"] or "{}")
    return SyncRecord(**values)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
