"""Sync-history seeds for the Behavior Sync page's tests and benchmark: daily runs per behavior x destination."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator

import sqlalchemy as sa

from behavior_sync.history import HistoryStore, SyncRecord
from behavior_sync.statedb import rejections

END = dt.datetime(2026, 11, 23, 6, 30, tzinfo=dt.UTC)


def daily_runs(behavior: str, destination_id: str, days: int, end: dt.datetime = END) -> Iterator[SyncRecord]:
    """``days`` successful daily runs ending at ``end``: the audience grows 10 a day from 1,000."""
    for day in range(days):
        finished = end - dt.timedelta(days=days - 1 - day)
        yield SyncRecord(
            behavior=behavior,
            destination_id=destination_id,
            destination_type=destination_id.split("_")[0],
            connection_id=f"{destination_id}_default",
            run_id=f"scheduled__{finished:%Y-%m-%d}",
            status="success",
            started_at=finished - dt.timedelta(seconds=42),
            finished_at=finished,
            adds=20 + day % 7,
            removes=10 + day % 7,
            audience_size=1_000 + 10 * day,
            match_rate=0.5 + (day % 10) / 100,
            durations={"plan": 1.5, "load": 30.0},
        )


def seed(url: str, records: Iterable[SyncRecord]) -> None:
    """Migrate the state database at ``url`` and insert ``records`` in one transaction."""
    store = HistoryStore(url)
    try:
        store.ensure_schema()
        rows = [store.row_values(r) for r in records]
        if rows:
            with store.db.engine.begin() as conn:
                conn.execute(sa.insert(store.table), rows)
    finally:
        store.close()


def seed_rejections(url: str, behavior: str, destination_id: str, run_id: str, codes: dict[str, int]) -> None:
    """Insert ``codes[code]`` rejected add rows of one run (member hashes are placeholders)."""
    store = HistoryStore(url)
    rows = [
        {
            "behavior": behavior,
            "destination_id": destination_id,
            "run_id": run_id,
            "plan_base": 0,
            "op": "add",
            "batch_no": 0,
            "member_key_hash": f"{i:064x}",
            "id_type": "email",
            "vendor_code": code,
            "message": code,
        }
        for code, n in codes.items()
        for i in range(n)
    ]
    try:
        with store.db.engine.begin() as conn:
            conn.execute(rejections.insert(), rows)
    finally:
        store.close()
