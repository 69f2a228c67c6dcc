"""Drift records: what a read-back of each destination found against its committed state (docs/adr/0015).

One row per check of a behavior x destination in ``bsync_drift`` (state database, schema v6): when, how
(``exact``, ``sampled``, ``count``), the committed count, what the destination holds or how many were sampled,
missing, unexpected (and of those, foreign: never added by us), the tolerance applied, the confidence of a
sampled estimate, the status (``in_sync``, ``drift``, ``unknown``) and what a repair queued. Counts and codes
only: hashed keys, when a person needs them, are in the check's run artifact (``details.artifact``).

``latest_drift`` is what the UI and the CLI read: the newest record of each behavior x destination.
``last_checked`` / ``is_due`` decide when a scheduled check runs (``reconcile.schedule`` of the behavior file).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import sqlalchemy as sa

from behavior_sync.statedb import StateDatabase, drift_checks

STATUSES = frozenset({"in_sync", "drift", "unknown"})
SCHEDULE_PERIODS = {"daily": dt.timedelta(days=1), "weekly": dt.timedelta(days=7)}
_SLACK = dt.timedelta(hours=1)  # a weekly check that ran at 06:00:05 is due again at 06:00:00 a week later


@dataclass(frozen=True)
class DriftRecord:
    """One check of one destination (the ``bsync_drift`` row). ``details``: JSON-serializable counts and flags."""

    behavior: str
    destination_id: str
    destination_type: str
    run_id: str
    checked_at: dt.datetime
    method: str
    status: str
    message: str = ""
    state_version: int | None = None
    committed: int | None = None
    observed: int | None = None
    sample_size: int | None = None
    missing: int | None = None
    unexpected: int | None = None
    foreign_members: int | None = None
    tolerance: str = ""
    expected_low: int | None = None
    expected_high: int | None = None
    missing_share: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    confidence: float | None = None
    repaired_missing: int | None = None
    repaired_unexpected: int | None = None
    details: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown drift status {self.status!r}; expected one of {sorted(STATUSES)}")

    def as_dict(self) -> dict[str, Any]:
        """JSON-serializable form (XCom, the UI's API, the CLI's --json)."""
        return asdict(self) | {"checked_at": self.checked_at.isoformat(), "details": dict(self.details)}


def record_drift(db: StateDatabase, record: DriftRecord) -> None:
    """Writes ``record``, replacing an earlier one of the same (behavior, destination, run): a retried check
    never adds a second row."""
    values = asdict(record) | {"details": json.dumps(dict(record.details), sort_keys=True, default=str)}
    key = _key(record.behavior, record.destination_id) & (drift_checks.c.run_id == record.run_id)
    with db.engine.begin() as conn:
        conn.execute(drift_checks.delete().where(key))
        conn.execute(drift_checks.insert().values(**values))


def latest_drift(db: StateDatabase, behavior: str | None = None) -> list[DriftRecord]:
    """The newest drift record of every behavior x destination (of ``behavior`` only, when given), sorted by
    behavior and destination id. Empty before any check."""
    newest = sa.select(sa.func.max(drift_checks.c.id)).group_by(drift_checks.c.behavior, drift_checks.c.destination_id)
    if behavior is not None:
        newest = newest.where(drift_checks.c.behavior == behavior)
    query = (
        sa.select(drift_checks)
        .where(drift_checks.c.id.in_(newest.scalar_subquery()))
        .order_by(drift_checks.c.behavior, drift_checks.c.destination_id)
    )
    with db.engine.connect() as conn:
        return [_record(row._mapping) for row in conn.execute(query)]


def drift_history(db: StateDatabase, behavior: str, destination_id: str, limit: int = 20) -> list[DriftRecord]:
    """The destination's drift records, newest first."""
    query = (
        sa.select(drift_checks)
        .where(_key(behavior, destination_id))
        .order_by(drift_checks.c.checked_at.desc(), drift_checks.c.id.desc())
        .limit(limit)
    )
    with db.engine.connect() as conn:
        return [_record(row._mapping) for row in conn.execute(query)]


def last_checked(db: StateDatabase, behavior: str, destination_id: str) -> dt.datetime | None:
    """When the destination was last read back with an answer (a check that could not read does not count)."""
    answered = drift_checks.c.observed.is_not(None) | drift_checks.c.sample_size.is_not(None)
    query = sa.select(sa.func.max(drift_checks.c.checked_at)).where(_key(behavior, destination_id) & answered)
    with db.engine.connect() as conn:
        checked: dt.datetime | None = conn.execute(query).scalar()
    return None if checked is None else _aware(checked)


def is_due(schedule: str, last: dt.datetime | None, now: dt.datetime, forced: bool) -> bool:
    """Whether a check runs now: always when ``forced`` (a run's conf asks); never for ``manual``; daily/weekly
    when the last answered check is a period old (or there is none)."""
    if forced:
        return True
    period = SCHEDULE_PERIODS.get(schedule)
    return period is not None and (last is None or now - last >= period - _SLACK)


def _record(row: sa.RowMapping) -> DriftRecord:
    values = {name: row[name] for name in DriftRecord.__dataclass_fields__}
    values["details"] = json.loads(row["details"] or "{}")
    values["checked_at"] = _aware(row["checked_at"])
    return DriftRecord(**values)


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _key(behavior: str, destination_id: str) -> sa.ColumnElement[bool]:
    return (drift_checks.c.behavior == behavior) & (drift_checks.c.destination_id == destination_id)
