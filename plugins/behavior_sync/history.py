"""Sync history: one row per (behavior, destination, run) in the state database.

The table lives in the state database (``statedb.py``: any SQLAlchemy URL, schema created and
migrated by ``ensure_schema``). History rows hold counts, statuses, durations, error codes and
messages: never raw identifiers (PII) and never credentials.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import sqlalchemy as sa

from behavior_sync.statedb import StateDatabase, sync_history

STATUSES = frozenset(
    {"success", "partial", "failed", "blocked", "dry_run", "paused_too_small", "pending", "not_due", "not_implemented"}
)


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
    audience_id: str | None = None
    audience_name: str | None = None
    invalid: int | None = None
    quarantined: int | None = None
    adds: int | None = None
    removes: int | None = None
    unchanged: int | None = None
    sent: int | None = None
    acknowledged: int | None = None
    rejected: int | None = None
    audience_size: int | None = None
    api_calls: int | None = None
    retries: int | None = None
    match_rate: float | None = None
    durations: Mapping[str, float] = field(default_factory=dict)  # step -> seconds
    errors: Sequence[Mapping[str, Any]] = ()  # [{code, count, message}]: codes, never values

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown sync status {self.status!r}; expected one of {sorted(STATUSES)}")


class HistoryStore:
    """Reads and writes sync history in the state database at ``url``."""

    def __init__(self, url: str) -> None:
        self.db = StateDatabase(url)
        self._engine = self.db.engine

    def close(self) -> None:
        """Release the engine's connections."""
        self.db.close()

    def ensure_schema(self) -> int:
        """Create or migrate the state database's schema (see ``StateDatabase.ensure_schema``)."""
        return self.db.ensure_schema()

    @property
    def table(self) -> sa.Table:
        """The history table (``bsync_sync_history``)."""
        return sync_history

    @staticmethod
    def row_values(rec: SyncRecord) -> dict[str, Any]:
        """The table's column values of ``rec`` (JSON columns encoded)."""
        return asdict(rec) | {
            "details": json.dumps(dict(rec.details), sort_keys=True, default=str),
            "durations": json.dumps(dict(rec.durations), sort_keys=True),
            "errors": json.dumps(list(rec.errors), sort_keys=True, default=str),
        }

    def record(self, rec: SyncRecord) -> None:
        """Write ``rec``, replacing an earlier row of the same (behavior, destination, run): retries never duplicate."""
        values = self.row_values(rec)
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
            return [record_from_row(row._mapping) for row in conn.execute(query)]


def last_success(db: StateDatabase, behavior: str, destination_id: str) -> dt.datetime | None:
    """When the destination last synced successfully (status success or partial), or None."""
    query = sa.select(sa.func.max(sync_history.c.finished_at)).where(
        (sync_history.c.behavior == behavior)
        & (sync_history.c.destination_id == destination_id)
        & sync_history.c.status.in_(("success", "partial"))
    )
    with db.engine.connect() as conn:
        finished: dt.datetime | None = conn.execute(query).scalar()
    if finished is None:
        return None
    return finished if finished.tzinfo else finished.replace(tzinfo=dt.UTC)


def record_from_row(row: sa.RowMapping) -> SyncRecord:
    """A ``bsync_sync_history`` row as a SyncRecord (JSON columns decoded; datetimes as the driver returns them)."""
    values = {k: v for k, v in row.items() if k != "id"}
    values["details"] = json.loads(values["details"] or "{}")
    values["durations"] = json.loads(values["durations"] or "{}")
    values["errors"] = tuple(json.loads(values["errors"] or "[]"))
    return SyncRecord(**values)
