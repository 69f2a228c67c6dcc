"""Audience health of each behavior x destination, from committed state and sync history (no vendor calls).

Pure core (no Airflow). History rows are read from the state database (plan counts extracted by the
database's JSON functions) and computed on in DuckDB; committed state files (``sync.state``) are scanned
by DuckDB. Definitions (ADR 0016), for each synced run (status success or partial), runs in the order
they ran:

* ``as_of``: the end of the run's data window (``details.window_end``; its finish time when absent), when
  the segment had this shape: a backfilled run is placed at its data date, not at the time it ran.
* ``size``: members committed after the run: those the next plan found committed, or the state
  pointer's count after the latest run.
* ``entries``: segment members that were not committed when the run planned; ``exits``: committed members
  no longer in the segment. Both as planned: a partial run may commit fewer (the next run retries the rest).
* ``growth_rate`` = (size - size before) / size before; ``churn_rate`` = exits / size before (None when
  the audience was empty before).

A window (default the last 30 days of ``as_of``, from midnight UTC) sums entries and exits and compares the
size after its last run with the size before its first run (growth) and its exits with that starting size (churn);
an audience first synced inside the window starts from that first sync's result.

Membership age comes from the current state's first-seen file: a member's age is the time from the data
date of the run that put it in (and kept it in since) to the data date of the run of the current state.
Overlap between behaviors: ``health_overlap``.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import duckdb
import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from behavior_sync import parquet_io
from behavior_sync.identity.engine import connect, register_parquet
from behavior_sync.statedb import StateDatabase, state_pointer, sync_history
from behavior_sync.sync.keying import DOUBT_PREFIX
from behavior_sync.sync.state import CommittedState

SYNCED = ("success", "partial")
DEFAULT_WINDOW_DAYS = 30
SERIES_LIMIT = 1_000  # newest runs of a pair's series: 2 years of daily runs and then some
AGE_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("< 1 week", 0, 7),
    ("1-4 weeks", 7, 30),
    ("1-3 months", 30, 90),
    ("3-6 months", 90, 180),
    ("6-12 months", 180, 365),
    ("> 1 year", 365, None),
)
_PLAN_COUNTS = ("committed_members", "prepared_members", "leaving_members")
_DAY = 86_400.0


@dataclass(frozen=True)
class HealthPoint:
    """One synced run of a behavior x destination (see the module docstring for each figure)."""

    run_id: str
    as_of: dt.datetime
    size: int | None
    entries: int
    exits: int
    growth_rate: float | None
    churn_rate: float | None


@dataclass(frozen=True)
class WindowHealth:
    """A behavior x destination over the last ``window_days``: committed size now, growth, churn, entries, exits.

    ``runs`` counts its synced runs in the window; the rates are None without any (or from an empty start).
    """

    behavior: str
    destination_id: str
    size: int
    window_days: int
    runs: int
    last_as_of: dt.datetime | None
    growth_rate: float | None
    churn_rate: float | None
    entries: int | None
    exits: int | None


@dataclass(frozen=True)
class AgeBucket:
    """Members whose age in days is in [min_days, max_days) (max_days None: no upper bound)."""

    label: str
    min_days: int
    max_days: int | None
    members: int


@dataclass(frozen=True)
class MembershipAge:
    """How long the current members have been in, as of the current state's run; ``unknown``: members whose
    entry predates first-seen data (or whose run has no history row)."""

    as_of: dt.datetime
    median_days: float | None
    unknown: int
    buckets: tuple[AgeBucket, ...]


@dataclass(frozen=True)
class PairHealth:
    """A behavior x destination's committed size, its synced runs (oldest first) and membership age."""

    behavior: str
    destination_id: str
    size: int | None
    points: tuple[HealthPoint, ...]
    age: MembershipAge | None


def pair_health(db: StateDatabase, behavior: str, destination_id: str, limit: int = SERIES_LIMIT) -> PairHealth:
    """The pair's committed size, its newest ``limit`` synced runs as health points and its membership age."""
    state = current_states(db, [behavior]).get((behavior, destination_id))
    return PairHealth(
        behavior=behavior,
        destination_id=destination_id,
        size=state.members if state else None,
        points=health_points(db, behavior, destination_id, state.members if state else None, limit),
        age=membership_age(db, behavior, destination_id, state) if state else None,
    )


def health_points(
    db: StateDatabase, behavior: str, destination_id: str, size: int | None, limit: int = SERIES_LIMIT
) -> tuple[HealthPoint, ...]:
    """The pair's newest ``limit`` synced runs as health points, oldest first; ``size``: its pointer's members."""
    h = sync_history
    runs = _history(db, (h.c.behavior == behavior) & (h.c.destination_id == destination_id), limit=limit)
    return _series(runs, {} if size is None else {(behavior, destination_id): size}).get((behavior, destination_id), ())


def sizes_over_time(
    db: StateDatabase, sizes: Mapping[tuple[str, str], int]
) -> dict[tuple[str, str], tuple[HealthPoint, ...]]:
    """Every synced run of each pair of ``sizes`` (pair -> its pointer's members) as health points, in one query."""
    h = sync_history
    pairs = [
        (h.c.behavior == behavior) & (h.c.destination_id == destination) for behavior, destination in sorted(sizes)
    ]
    return _series(_history(db, sa.or_(sa.false(), *pairs)), sizes)  # OR of pairs: an index range each


def _series(runs: pa.Table, sizes: Mapping[tuple[str, str], int]) -> dict[tuple[str, str], tuple[HealthPoint, ...]]:
    """Health points per pair of the history rows ``runs`` (``_history``), oldest first."""
    series: dict[tuple[str, str], list[HealthPoint]] = {}
    with _engine(runs, sizes) as con:
        columns = "behavior, destination_id, run_id, as_of, before, size, entries, exits"
        query = f"SELECT {columns} FROM ({_POINTS_SQL}) ORDER BY behavior, destination_id, seq"
        for behavior, destination_id, *values in con.execute(query).fetchall():
            series.setdefault((behavior, destination_id), []).append(_point(*values))
    return {pair: tuple(points) for pair, points in series.items()}


def health_summary(
    db: StateDatabase, now: dt.datetime, behaviors: Collection[str] | None = None, days: int = DEFAULT_WINDOW_DAYS
) -> list[WindowHealth]:
    """Every committed behavior x destination (of ``behaviors`` when given) over the last ``days`` days: data dates
    from midnight (UTC) ``days`` days before ``now``'s date.

    The answer is kept until the history gets a row, a state moves or the day changes (a page shown to many
    people asks the same again and again); computing it reads only the history rows finished in the window.
    """
    states = current_states(db, behaviors)
    since = window_start(now, days)
    pointers = tuple(sorted((b, d, s.version, s.members) for (b, d), s in states.items()))
    return list(_summary(db, pointers, since, days, _newest_history_row(db)))


@functools.lru_cache(maxsize=16)
def _summary(
    db: StateDatabase, pointers: tuple[tuple[str, str, int, int], ...], since: dt.datetime, days: int, newest: int
) -> tuple[WindowHealth, ...]:
    """The summary of the pairs of ``pointers`` (behavior, destination, version, members); ``newest`` (the
    history's newest row id) only keys the cache. Pair by pair from the pointers (a LEFT JOIN: SQLite keeps the
    pointers as the outer loop, so the history is not scanned): a run's data date never follows its finish."""
    h, p = sync_history, state_pointer
    joined = (h.c.behavior == p.c.behavior) & (h.c.destination_id == p.c.destination_id) & (h.c.finished_at >= since)
    runs = _history(db, p.c.behavior.in_({b for b, *_ in pointers}), source=p.outerjoin(h, joined))
    sizes = {(b, d): members for b, d, _, members in pointers}
    with _engine(runs, sizes) as con:
        windows = {(b, d): values for b, d, *values in con.execute(_WINDOWS_SQL, {"since": _naive(since)}).fetchall()}
    quiet = (0, None, None, None, None, None)
    return tuple(_window(key, sizes[key], days, *windows.get(key, quiet)) for key in sorted(sizes))


def window_start(now: dt.datetime, days: int) -> dt.datetime:
    """Where a window of the last ``days`` days starts: midnight (UTC) ``days`` days before ``now``'s date."""
    return now.astimezone(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0) - dt.timedelta(days=days)


def _newest_history_row(db: StateDatabase) -> int:
    with db.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.max(sync_history.c.id))).scalar() or 0)


def _window(
    key: tuple[str, str],
    size: int,
    days: int,
    runs: int,
    last: dt.datetime | None,
    start: int | None,
    end: int | None,
    entries: int | None,
    exits: int | None,
) -> WindowHealth:
    """A pair's window from its aggregates (runs 0: no synced run in the window)."""
    return WindowHealth(
        behavior=key[0],
        destination_id=key[1],
        size=size,
        window_days=days,
        runs=runs,
        last_as_of=_aware(last) if last else None,
        growth_rate=_rate(end - start, start) if end is not None and start is not None else None,
        churn_rate=_rate(exits, start) if exits is not None and start is not None else None,
        entries=None if entries is None else int(entries),
        exits=None if exits is None else int(exits),
    )


def current_states(
    db: StateDatabase, behaviors: Collection[str] | None = None
) -> dict[tuple[str, str], CommittedState]:
    """The committed state of every (behavior, destination) that has one (of ``behaviors`` when given)."""
    p = state_pointer
    query = sa.select(p).where(_in(p.c.behavior, behaviors))
    with db.engine.connect() as conn:
        return {
            (r.behavior, r.destination_id): CommittedState(r.version, r.uri, r.members, r.rows, r.run_id, r.members_uri)
            for r in conn.execute(query)
        }


def _in(column: sa.ColumnElement[str], values: Collection[str] | None) -> sa.ColumnElement[bool]:
    return sa.true() if values is None else column.in_(sorted(values))


_RUNS_SCHEMA = pa.schema(
    [
        ("behavior", pa.string()),
        ("destination_id", pa.string()),
        ("run_id", pa.string()),
        ("status", pa.string()),
        ("finished_at", pa.string()),  # as the database writes it (no per-row conversion in Python)
        ("id", pa.int64()),
        ("window_end", pa.string()),
        *((name, pa.int64()) for name in _PLAN_COUNTS),
    ]
)


def _history(
    db: StateDatabase, where: sa.ColumnElement[bool], limit: int | None = None, source: sa.FromClause = sync_history
) -> pa.Table:
    """History rows matching ``where`` (selected from ``source``, which holds the history table) with their
    data window's end and plan counts (``_RUNS_SCHEMA``); the newest ``limit`` rows when given."""
    h, dialect = sync_history, db.engine.dialect.name
    counts = [sa.cast(_json(dialect, "plan", name), sa.BigInteger) for name in _PLAN_COUNTS]
    finished = sa.cast(h.c.finished_at, sa.String)
    columns = [h.c.behavior, h.c.destination_id, h.c.run_id, h.c.status, finished, h.c.id]
    query = sa.select(*columns, _json(dialect, "window_end"), *counts).select_from(source).where(where)
    if limit is not None:
        query = query.order_by(h.c.finished_at.desc(), h.c.id.desc()).limit(limit)
    with db.engine.connect() as conn:
        rows = conn.execute(query).all()
    columns_of_rows = list(zip(*rows, strict=True)) if rows else [()] * len(_RUNS_SCHEMA)
    return pa.table(
        [pa.array(values, field.type) for values, field in zip(columns_of_rows, _RUNS_SCHEMA, strict=True)],
        schema=_RUNS_SCHEMA,
    )


def _json(dialect: str, *path: str) -> sa.ColumnElement[Any]:
    """The text or number at ``path`` in a history row's ``details`` JSON (NULL when absent)."""
    details = sync_history.c.details
    if dialect == "postgresql":
        return sa.func.json_extract_path_text(sa.cast(details, postgresql.JSON), *path)
    return sa.func.json_extract(details, "$." + ".".join(path))


# A run's data date (naive UTC; the connection's time zone is UTC): its window end, else its finish time.
_AS_OF = "COALESCE(CAST(window_end AS TIMESTAMPTZ), CAST(finished_at AS TIMESTAMPTZ))::TIMESTAMP"
# Health points of ``runs`` (``_RUNS_SCHEMA``) with the pointers' ``sizes``; ``seq``: the order the runs ran.
_POINTS_SQL = f"""
SELECT * FROM (
    SELECT behavior, destination_id, run_id, status,
           {_AS_OF} AS as_of,
           committed_members AS before, leaving_members AS exits,
           prepared_members - committed_members + leaving_members AS entries,
           COALESCE(LEAD(committed_members) OVER ran, s.members) AS size,
           row_number() OVER ran AS seq
    FROM runs AS r LEFT JOIN sizes AS s USING (behavior, destination_id)
    WHERE committed_members IS NOT NULL
    WINDOW ran AS (PARTITION BY behavior, destination_id ORDER BY CAST(finished_at AS TIMESTAMPTZ), id)
) WHERE status IN ('success', 'partial')
"""


# Per pair over the window: runs, last data date, start and end sizes, entries, exits. An audience whose first
# sync is in the window starts from that sync's result (its initial load is neither growth nor entries).
_WINDOWS_SQL = f"""
SELECT behavior, destination_id, count(*), max(as_of), arg_min(CASE WHEN initial THEN size ELSE before END, seq),
       arg_max(size, seq), COALESCE(sum(entries) FILTER (WHERE NOT initial), 0),
       COALESCE(sum(exits) FILTER (WHERE NOT initial), 0)
FROM (
    SELECT *, before = 0 AND seq = min(seq) OVER (PARTITION BY behavior, destination_id) AS initial
    FROM ({_POINTS_SQL}) WHERE as_of >= $since
) GROUP BY ALL
"""


@contextmanager
def _engine(runs: pa.Table, sizes: Mapping[tuple[str, str], int]) -> Iterator[duckdb.DuckDBPyConnection]:
    """A DuckDB connection (UTC) with the tables ``runs`` and ``sizes`` (behavior, destination_id, members)."""
    keys = sorted(sizes)
    with connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        con.register("runs", runs)
        con.register(
            "sizes",
            pa.table(
                {
                    "behavior": pa.array([k[0] for k in keys], pa.string()),
                    "destination_id": pa.array([k[1] for k in keys], pa.string()),
                    "members": pa.array([sizes[k] for k in keys], pa.int64()),
                }
            ),
        )
        yield con


def _point(run_id: str, as_of: dt.datetime, before: int, size: int | None, entries: int, exits: int) -> HealthPoint:
    return HealthPoint(
        run_id=run_id,
        as_of=_aware(as_of),
        size=size,
        entries=entries,
        exits=exits,
        growth_rate=_rate(size - before, before) if size is not None else None,
        churn_rate=_rate(exits, before),
    )


def _rate(change: int, base: int) -> float | None:
    return change / base if base else None


def membership_age(db: StateDatabase, behavior: str, destination_id: str, state: CommittedState) -> MembershipAge:
    """How long the members of ``state`` (the pair's current state) have been in (see the module docstring)."""
    counts: list[tuple[str | None, int]] = []
    if parquet_io.exists(state.since_uri):
        with connect() as con:
            register_parquet(con, "since", state.since_uri)
            counts = con.execute(
                "SELECT since_run, count(*) FROM since WHERE NOT starts_with(member_key, $doubt) GROUP BY ALL",
                {"doubt": DOUBT_PREFIX},
            ).fetchall()
    runs = [run for run, _ in counts if run is not None]
    dates = _run_dates(db, behavior, destination_id, [state.run_id, *runs])
    as_of = dates.get(state.run_id) or _aware(dt.datetime.now(dt.UTC))
    ages = sorted((max(0.0, (as_of - dates[run]).total_seconds() / _DAY), n) for run, n in counts if run in dates)
    known = sum(n for _, n in ages)
    buckets = tuple(
        AgeBucket(label, low, high, sum(n for age, n in ages if low <= age and (high is None or age < high)))
        for label, low, high in AGE_BUCKETS
    )
    unknown = sum(n for _, n in counts) - known if counts else state.members
    return MembershipAge(as_of, _weighted_median(ages), unknown, buckets)


def _run_dates(db: StateDatabase, behavior: str, destination_id: str, runs: Sequence[str]) -> dict[str, dt.datetime]:
    """The data date (``as_of``) of each of ``runs`` that has a history row for the pair."""
    h = sync_history
    where = (h.c.behavior == behavior) & (h.c.destination_id == destination_id) & h.c.run_id.in_(set(runs))
    with _engine(_history(db, where), {}) as con:
        return {run: _aware(as_of) for run, as_of in con.execute(f"SELECT run_id, {_AS_OF} FROM runs").fetchall()}


def _weighted_median(ages: Sequence[tuple[float, int]]) -> float | None:
    """The lower median of ``(age, members)`` groups sorted by age (None when there are no members)."""
    half, seen = (sum(n for _, n in ages) + 1) // 2, 0
    for age, n in ages:
        seen += n
        if n and seen >= half:
            return age
    return None


def _naive(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC).replace(tzinfo=None) if moment.tzinfo else moment


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)
