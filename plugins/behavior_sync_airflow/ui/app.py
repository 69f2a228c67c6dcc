"""The FastAPI app of the Behavior Sync page, mounted by the api-server at ``/behavior-sync``.

Every route, page or JSON, requires Airflow's login (``requires_authenticated``: a JWT bearer token or the
UI's ``_token`` cookie); without one the answer is 401. FastAPI's own ``/docs``, ``/redoc``, ``/openapi.json``
and ``/docs/oauth2-redirect`` are switched off (FastAPI serves them outside the app's dependencies, so they
would answer without a login). Routes only read: the state database comes from the ``sync_state_default``
connection, the behaviors from ``include/behaviors``. A missing or unusable connection answers 503 with the
reason (never the URL's password).

A user sees the behaviors whose DAG (``behavior__<slug>``) Airflow's auth manager lets them read
(``get_authorized_dag_ids``: the simple auth manager's roles and teams, FAB's per-DAG permissions, ...);
a DAG Airflow has not parsed yet is nobody's. Any other behavior is absent from every page and JSON answer,
and asking for its history or detail answers 403. Broken behavior files are listed only to a user who may
read every DAG Airflow knows (a broken file's placeholder DAG may belong to anyone).

    GET /                                  overview page (HTML): status, last sync, drift
    GET /detail?behavior=&destination=     one behavior x destination (HTML): charts, health, drift checks, runs
    GET /api/overview                      overview as JSON (with each destination's newest drift check)
    GET /api/history?behavior=&destination=[&limit=]   runs (oldest first) and rejections as JSON
    GET /health[?scope=&days=]             audience health: growth, churn, size over time, overlap (HTML)
    GET /api/health[?days=]                growth, churn, entries, exits per behavior x destination as JSON
    GET /api/health/pair?behavior=&destination=        a pair's health per run and membership age as JSON
    GET /api/health/overlap[?scope=][&behavior=...]    shared members and Jaccard between behaviors as JSON

The health JSON is the CLI's (``python -m behavior_sync health summary|pair|overlap --json``).
"""

from __future__ import annotations

import datetime as dt
import functools
import os
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from airflow.api_fastapi.core_api.security import GetUserDep, requires_authenticated
from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import HTMLResponse

from behavior_sync.config import LoadedBehaviors, dag_id_for, load_behaviors
from behavior_sync.dashboard import InvalidFile, PairSummary, invalid_files, overview, pair_history, rejection_counts
from behavior_sync.health import (
    DEFAULT_WINDOW_DAYS,
    WindowHealth,
    current_states,
    health_summary,
    pair_health,
    sizes_over_time,
)
from behavior_sync.health_json import overlap_json, pair_json, summary_json
from behavior_sync.health_overlap import SCOPE_BEHAVIOR, SCOPES, Overlap, overlap, scope_destinations
from behavior_sync.paths import behaviors_dir
from behavior_sync.statedb import StateDatabase
from behavior_sync.sync.reconcile import drift_history, latest_drift
from behavior_sync_airflow.ui import views

authenticated = requires_authenticated()
HISTORY_LIMIT = 400  # a year of daily runs and then some
SIZE_LINES = 6  # audiences on the health page's size chart (the largest destination of the largest behaviors)
DRIFT_LIMIT = 20  # drift checks on a destination's detail page (newest)


def state_url() -> str:
    """The state database's SQLAlchemy URL from ``sync_state_default``; 503 when it cannot be read."""
    from airflow.sdk.exceptions import AirflowNotFoundException

    from behavior_sync_airflow.hooks.database import SyncStateHook

    try:
        return SyncStateHook().get_url()
    except (AirflowNotFoundException, ValueError) as exc:
        raise HTTPException(503, f"the state database connection sync_state_default is unusable: {exc}") from exc


@functools.lru_cache(maxsize=4)
def _database(url: str) -> StateDatabase:
    db = StateDatabase(url)
    db.ensure_schema()  # an empty install has no tables yet; also applies new indexes
    return db


def state_database(url: Annotated[str, Depends(state_url)]) -> StateDatabase:
    """The (cached, migrated) state database at ``url``."""
    return _database(url)


def behaviors() -> LoadedBehaviors:
    """The behavior files, valid and broken. They change without a restart, so the folder is looked at on every
    request, but parsed again only when a file in it changed (name, size or modification time): hundreds of
    behaviors are not validated again for each page."""
    folder = behaviors_dir()
    return _parsed(folder, _folder_state(folder))


@functools.lru_cache(maxsize=4)
def _parsed(folder: Path, state: tuple[tuple[str, int, int], ...]) -> LoadedBehaviors:
    return load_behaviors(folder)


def _folder_state(folder: Path) -> tuple[tuple[str, int, int], ...]:
    """(name, modification time in ns, size) of each entry of ``folder`` ((-1, -1) when it cannot be read)."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return ()
    return tuple(sorted((entry.name, *_stat(entry)) for entry in entries))


def _stat(entry: os.DirEntry[str]) -> tuple[int, int]:
    try:
        info = entry.stat()
    except OSError:  # e.g. a dangling symlink: load_behaviors reports it
        return -1, -1
    return info.st_mtime_ns, info.st_size


def now() -> dt.datetime:
    """Aware UTC now (a dependency, so tests can fix it)."""
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class ReadableDags:
    """The DAG ids the logged-in user may read, and whether they are every DAG Airflow knows."""

    ids: frozenset[str]
    every: bool

    def check(self, behavior: str) -> None:
        """403 unless the user may read ``behavior``'s DAG (the same answer whether it exists or not)."""
        if dag_id_for(behavior) not in self.ids:
            raise HTTPException(403, "you may not read this behavior's DAG")

    def among(self, behaviors: Iterable[str]) -> list[str]:
        """The ``behaviors`` whose DAG the user may read."""
        return [b for b in behaviors if dag_id_for(b) in self.ids]


def readable_dags(user: GetUserDep) -> ReadableDags:
    """What the user may read, from Airflow's auth manager (``get_authorized_dag_ids``, method GET)."""
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.models.dag import DagModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        ids = get_auth_manager().get_authorized_dag_ids(user=user, method="GET", session=session)
        known = set(session.scalars(select(DagModel.dag_id)))
    return ReadableDags(frozenset(ids), known <= ids)


Db = Annotated[StateDatabase, Depends(state_database)]
Behaviors = Annotated[LoadedBehaviors, Depends(behaviors)]
Now = Annotated[dt.datetime, Depends(now)]
Behavior = Annotated[str, Query(min_length=1, max_length=64)]
Destination = Annotated[str, Query(min_length=1, max_length=64)]
Limit = Annotated[int, Query(ge=1, le=5000)]
Days = Annotated[int, Query(ge=1, le=3660)]
Scope = Annotated[str, Query(pattern=f"^({'|'.join(SCOPES)})$")]
Chosen = Annotated[list[Annotated[str, Query(min_length=1, max_length=64)]] | None, Query(max_length=100)]
Readable = Annotated[ReadableDags, Depends(readable_dags)]

app = FastAPI(
    title="Behavior Sync",
    dependencies=[Depends(authenticated)],
    docs_url=None,
    redoc_url=None,
    openapi_url=None,
    swagger_ui_oauth2_redirect_url=None,
)


def visible(
    db: StateDatabase, loaded: LoadedBehaviors, moment: dt.datetime, readable: ReadableDags
) -> tuple[list[PairSummary], list[InvalidFile], views.Drift]:
    """The overview rows of the DAGs the user may read, the broken files when they may read every DAG, and the
    newest drift check of each of those rows."""
    pairs = [p for p in overview(db, loaded.behaviors, moment) if p.dag_id in readable.ids]
    shown = {(p.behavior, p.destination_id) for p in pairs}
    drift = {key: r for r in latest_drift(db) if (key := (r.behavior, r.destination_id)) in shown}
    return pairs, invalid_files(loaded.errors) if readable.every else [], drift


@app.get("/api/overview")
def api_overview(db: Db, loaded: Behaviors, moment: Now, readable: Readable) -> dict[str, Any]:
    """Every readable behavior x destination with its latest run, latest sync and newest drift check, and the
    invalid behavior files."""
    return views.overview_json(*visible(db, loaded, moment, readable))


@app.get("/api/history")
def api_history(
    db: Db, behavior: Behavior, destination: Destination, readable: Readable, limit: Limit = HISTORY_LIMIT
) -> dict[str, Any]:
    """The pair's newest ``limit`` runs (oldest first) and its rejected rows by vendor code."""
    readable.check(behavior)
    return views.history_json(
        pair_history(db, behavior, destination, limit), rejection_counts(db, behavior, destination)
    )


@app.get("/", response_class=HTMLResponse)
def overview_page(request: Request, db: Db, loaded: Behaviors, moment: Now, readable: Readable) -> str:
    """The overview page."""
    pairs, invalid, drift = visible(db, loaded, moment, readable)
    base = request.scope.get("root_path", "")
    return views.render("overview.html", base=base, pairs=pairs, invalid=invalid, drift=drift, now=moment)


@app.get("/detail", response_class=HTMLResponse)
def detail_page(request: Request, db: Db, behavior: Behavior, destination: Destination, readable: Readable) -> str:
    """One behavior x destination: charts, audience health, drift checks, rejections by code and the run history
    table (newest first)."""
    readable.check(behavior)
    runs = pair_history(db, behavior, destination, HISTORY_LIMIT)
    health = pair_health(db, behavior, destination)
    return views.render(
        "detail.html",
        base=request.scope.get("root_path", ""),
        behavior=behavior,
        destination=destination,
        dag_id=dag_id_for(behavior),
        runs=list(reversed(runs)),
        charts=views.charts(runs),
        rejections=rejection_counts(db, behavior, destination),
        health=health,
        health_charts=views.health_charts(health.points, health.age),
        drift_checks=drift_history(db, behavior, destination, DRIFT_LIMIT),
    )


@app.get("/api/health")
def api_health(db: Db, moment: Now, readable: Readable, days: Days = DEFAULT_WINDOW_DAYS) -> dict[str, Any]:
    """Committed size, growth, churn, entries and exits of every readable behavior x destination over ``days``."""
    return summary_json(readable_summary(db, moment, readable, days), moment, days)


@app.get("/api/health/pair")
def api_health_pair(db: Db, behavior: Behavior, destination: Destination, readable: Readable) -> dict[str, Any]:
    """One pair's committed size, health per synced run (oldest first) and membership age."""
    readable.check(behavior)
    return pair_json(pair_health(db, behavior, destination))


@app.get("/api/health/overlap")
def api_health_overlap(
    db: Db, loaded: Behaviors, readable: Readable, scope: Scope = SCOPE_BEHAVIOR, behavior: Chosen = None
) -> dict[str, Any]:
    """Shared members and Jaccard between the readable behaviors (``behavior``: these only) in ``scope``."""
    return overlap_json(readable_overlap(db, loaded, readable, scope, behavior))


@app.get("/health", response_class=HTMLResponse)
def health_page(
    request: Request,
    db: Db,
    loaded: Behaviors,
    moment: Now,
    readable: Readable,
    scope: Scope = SCOPE_BEHAVIOR,
    days: Days = DEFAULT_WINDOW_DAYS,
) -> str:
    """Audience health of the readable behaviors: growth and churn, the largest audiences over time, overlap.

    The overlap (DuckDB over state files, after one quick read of the pointers) is computed in a second thread
    while the summary reads the history: a cold matrix costs no extra wall time.
    """
    with ThreadPoolExecutor(max_workers=1) as pool:
        shared = pool.submit(readable_overlap, db, loaded, readable, scope, None)
        summary = readable_summary(db, moment, readable, days)
        largest = views.largest_audiences(summary, SIZE_LINES)
        series = sizes_over_time(db, {(r.behavior, r.destination_id): r.size for r in largest})
        lines = [
            (f"{r.behavior} → {r.destination_id}", series.get((r.behavior, r.destination_id), ())) for r in largest
        ]
        return views.render(
            "health.html",
            base=request.scope.get("root_path", ""),
            rows=views.health_rows(summary),
            days=days,
            sizes=views.sizes_chart(lines),
            overlap=shared.result(),
            scopes=SCOPES,
        )


def readable_summary(db: StateDatabase, moment: dt.datetime, readable: ReadableDags, days: int) -> list[WindowHealth]:
    """The health summary of the committed behavior x destination pairs whose DAG the user may read."""
    behaviors = readable.among({b for b, _ in current_states(db)})
    return health_summary(db, moment, behaviors, days) if behaviors else []


def readable_overlap(
    db: StateDatabase, loaded: LoadedBehaviors, readable: ReadableDags, scope: str, chosen: list[str] | None
) -> Overlap:
    """The overlap of the readable behaviors in ``scope`` (``chosen`` only, when given; 403 for one not readable)."""
    for slug in chosen or ():
        readable.check(slug)
    scoped = scope_destinations(loaded.behaviors, scope)
    wanted = readable.among(s for s in scoped if not chosen or s in chosen)
    return overlap(db, {slug: scoped[slug] for slug in wanted}, scope)
