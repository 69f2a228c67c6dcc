"""Read models of the Behavior Sync page: the overview of every behavior x destination and one pair's detail.

Pure core (no Airflow): the Airflow layer (``behavior_sync_airflow.ui``) passes the loaded behavior files,
the state database and "now". Status mapping from sync-history statuses to the product's statuses
(Active, Syncing, Paused, Error, Rate limited, Pending), documented in the README ("Behavior Sync page"):

=================  ==========================  =====================================================
history status     shown as                    why
=================  ==========================  =====================================================
success            Active                      synced, nothing rejected
partial            Active (with warnings)      synced, some rows rejected or batches unacknowledged
failed             Error                       nothing acknowledged; the message and codes say why
blocked            Paused (guardrail)          a guardrail stopped the sync until a person acts
paused_too_small   Paused (audience too small) below the destination's minimum size
pending            Pending                     the vendor is still processing (e.g. a Google job)
dry_run            Dry run                     planned only, nothing sent
not_due            Not due                     the destination's frequency skipped this run
not_implemented    Not implemented             the destination type cannot load yet
(no history)       Never synced
=================  ==========================  =====================================================

History has no "Syncing" or "Rate limited" state: a run writes its row only when it ends, and throttling
is waited out inside a run (its ``retries`` count shows it), so neither is ever shown from history alone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import sqlalchemy as sa
from croniter import croniter

from behavior_sync.config import Behavior, BehaviorFileError, dag_id_for, display_path
from behavior_sync.history import SyncRecord, record_from_row
from behavior_sync.statedb import StateDatabase, rejections, sync_history

SYNCED = ("success", "partial")


@dataclass(frozen=True)
class StatusView:
    """How a history status is shown: the product's label and a tone (ok, warn, error, paused, info)."""

    label: str
    tone: str


STATUS_VIEWS: Mapping[str, StatusView] = {
    "success": StatusView("Active", "ok"),
    "partial": StatusView("Active (with warnings)", "warn"),
    "failed": StatusView("Error", "error"),
    "blocked": StatusView("Paused (guardrail)", "paused"),
    "paused_too_small": StatusView("Paused (audience too small)", "paused"),
    "pending": StatusView("Pending", "info"),
    "dry_run": StatusView("Dry run", "info"),
    "not_due": StatusView("Not due", "info"),
    "not_implemented": StatusView("Not implemented", "info"),
}
NEVER_SYNCED = StatusView("Never synced", "info")


def status_view(status: str | None) -> StatusView:
    """The product status of a history status (``None``: no history yet)."""
    return NEVER_SYNCED if status is None else STATUS_VIEWS.get(status, StatusView(status, "info"))


@dataclass(frozen=True)
class PairSummary:
    """One row of the overview: a behavior x destination, its latest run and its latest completed sync.

    ``last_run`` is the newest history row of any status (it gives the status); ``last_sync`` the newest
    with status success or partial (it gives audience size, adds/removes and match rate). Either may be None.
    """

    behavior: str
    behavior_name: str
    destination_id: str
    destination_type: str
    dag_id: str
    configured: bool  # False: history of a destination no longer in the behavior files
    next_run: dt.datetime | None
    last_run: SyncRecord | None
    last_sync: SyncRecord | None

    @property
    def status(self) -> StatusView:
        """The product status of the latest run."""
        return status_view(self.last_run.status if self.last_run else None)


@dataclass(frozen=True)
class InvalidFile:
    """A behavior file that cannot be used, with one message per problem."""

    file: str
    problems: tuple[tuple[str, str], ...]  # (field, message)


@dataclass(frozen=True)
class RejectionCount:
    """Rows a destination rejected, by vendor code and operation (add/remove), over all runs."""

    code: str
    op: str
    rows: int


def next_run(schedule: str | None, after: dt.datetime) -> dt.datetime | None:
    """The next cron tick of ``schedule`` (cron or @daily/@weekly, UTC) after ``after``; None when manual."""
    if schedule is None:
        return None
    tick: dt.datetime = croniter(schedule, after.astimezone(dt.UTC)).get_next(dt.datetime)
    return tick


def invalid_files(errors: Iterable[BehaviorFileError]) -> list[InvalidFile]:
    """The broken behavior files as plain values (paths relative to the project)."""
    return [InvalidFile(display_path(e.file), tuple((p.field, p.message) for p in e.problems)) for e in errors]


def overview(db: StateDatabase, behaviors: Sequence[Behavior], now: dt.datetime) -> list[PairSummary]:
    """Every configured behavior x destination, plus pairs only history knows; sorted by behavior, destination.

    Two queries (latest row, latest synced row per pair) served by seeks in the history index.
    """
    latest = _latest_rows(db, statuses=None)
    synced = _latest_rows(db, statuses=SYNCED)
    ticks = {schedule: next_run(schedule, now) for schedule in {b.schedule for b in behaviors}}
    rows = [
        _configured_pair(b, d.id, d.type, ticks[b.schedule], latest.pop((b.slug, d.id), None))
        for b in behaviors
        for d in b.destinations
    ]
    rows += [_history_only_pair(record) for record in latest.values()]
    return sorted(
        (replace(row, last_sync=synced.get((row.behavior, row.destination_id))) for row in rows),
        key=lambda p: (p.behavior, p.destination_id),
    )


def _configured_pair(
    behavior: Behavior,
    destination_id: str,
    destination_type: str,
    tick: dt.datetime | None,
    last_run: SyncRecord | None,
) -> PairSummary:
    return PairSummary(
        behavior=behavior.slug,
        behavior_name=behavior.name,
        destination_id=destination_id,
        destination_type=destination_type,
        dag_id=behavior.dag_id,
        configured=True,
        next_run=tick,
        last_run=last_run,
        last_sync=None,
    )


def _history_only_pair(last_run: SyncRecord) -> PairSummary:
    return PairSummary(
        behavior=last_run.behavior,
        behavior_name=last_run.behavior,
        destination_id=last_run.destination_id,
        destination_type=last_run.destination_type,
        dag_id=dag_id_for(last_run.behavior),
        configured=False,
        next_run=None,
        last_run=last_run,
        last_sync=None,
    )


def _latest_rows(db: StateDatabase, statuses: Sequence[str] | None) -> dict[tuple[str, str], SyncRecord]:
    """The newest history row per (behavior, destination), optionally among ``statuses`` only.

    Index seeks only, however long the history: the pairs are walked through the history index one
    after the other (``_pairs``), and each pair's newest row is the first of its index range read backwards.
    """
    h, newest = sync_history, sync_history.alias("newest")
    pairs = _pairs()
    latest = (
        sa.select(newest.c.id)
        .where((newest.c.behavior == pairs.c.behavior) & (newest.c.destination_id == pairs.c.destination_id))
        .order_by(newest.c.finished_at.desc(), newest.c.id.desc())
        .limit(1)
    )
    if statuses is not None:
        latest = latest.where(newest.c.status.in_(statuses))
    ids = sa.select(latest.scalar_subquery()).select_from(pairs).where(pairs.c.behavior.is_not(None))
    query = sa.select(h).where(h.c.id.in_(ids)).order_by(h.c.id)
    with db.engine.connect() as conn:
        return {(r.behavior, r.destination_id): record_from_row(r._mapping) for r in conn.execute(query)}


def _pairs() -> sa.CTE:
    """Every (behavior, destination_id) in the history, each found from the previous one by index seeks (a
    recursive CTE: the loose index scan SQLite and PostgreSQL do not do for DISTINCT on their own): the next
    destination of the same behavior, else the first row of the next behavior. The last row is NULLs."""
    start = sa.select(
        _first("behavior", None).label("behavior"), _first("destination_id", None).label("destination_id")
    )
    pairs = start.cte("pairs", recursive=True)

    def same(h: sa.FromClause) -> sa.ColumnElement[bool]:
        return (h.c.behavior == pairs.c.behavior) & (h.c.destination_id > pairs.c.destination_id)

    def later(h: sa.FromClause) -> sa.ColumnElement[bool]:
        return h.c.behavior > pairs.c.behavior

    step = sa.select(
        sa.func.coalesce(_first("behavior", same), _first("behavior", later)),
        sa.func.coalesce(_first("destination_id", same), _first("destination_id", later)),
    ).where(pairs.c.behavior.is_not(None))
    return pairs.union_all(step)


def _first(column: str, where: Callable[[sa.FromClause], sa.ColumnElement[bool]] | None) -> sa.ScalarSelect[Any]:
    """``column`` of the first history row in (behavior, destination_id) order matching ``where``: one index seek."""
    h = sync_history.alias()
    query = sa.select(h.c[column]).order_by(h.c.behavior, h.c.destination_id).limit(1)
    return (query if where is None else query.where(where(h))).scalar_subquery()


def pair_history(db: StateDatabase, behavior: str, destination_id: str, limit: int = 400) -> list[SyncRecord]:
    """The pair's newest ``limit`` history rows, oldest first (what the charts and the table show)."""
    h = sync_history
    query = (
        sa.select(h)
        .where((h.c.behavior == behavior) & (h.c.destination_id == destination_id))
        .order_by(h.c.finished_at.desc(), h.c.id.desc())
        .limit(limit)
    )
    with db.engine.connect() as conn:
        return [record_from_row(r._mapping) for r in reversed(conn.execute(query).all())]


def rejection_counts(db: StateDatabase, behavior: str, destination_id: str) -> list[RejectionCount]:
    """Rejected rows of the pair by vendor code and operation, most frequent first."""
    r = rejections
    rows = sa.func.count().label("rows")
    query = (
        sa.select(r.c.vendor_code, r.c.op, rows)
        .where((r.c.behavior == behavior) & (r.c.destination_id == destination_id))
        .group_by(r.c.vendor_code, r.c.op)
        .order_by(rows.desc(), r.c.vendor_code)
    )
    with db.engine.connect() as conn:
        return [RejectionCount(code, op, n) for code, op, n in conn.execute(query)]


def run_seconds(record: SyncRecord) -> float | None:
    """Wall time of a run from its start to its history row (None when the start is unknown)."""
    if record.started_at is None:
        return None
    return (_aware(record.finished_at) - _aware(record.started_at)).total_seconds()


def run_as_of(record: SyncRecord) -> dt.datetime:
    """The end of the run's data window (``details.window_end``), when the segment had what the run synced; its
    finish time when unknown (aware UTC). Charts place runs there, so a backfilled run sits at its data date."""
    window_end = record.details.get("window_end")
    return _aware(dt.datetime.fromisoformat(window_end) if isinstance(window_end, str) else record.finished_at)


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
