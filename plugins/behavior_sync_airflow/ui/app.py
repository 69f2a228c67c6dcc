"""The FastAPI app of the Behavior Sync page, mounted by the api-server at ``/behavior-sync``.

Every route, page or JSON, requires Airflow's login (``requires_authenticated``: a JWT bearer token or the
UI's ``_token`` cookie); without one the answer is 401. Routes only read: the state database comes from
the ``sync_state_default`` connection, the behaviors from ``include/behaviors``. A missing or unusable
connection answers 503 with the reason (never the URL's password).

    GET /                                  overview page (HTML)
    GET /detail?behavior=&destination=     one behavior x destination (HTML)
    GET /api/overview                      overview as JSON
    GET /api/history?behavior=&destination=[&limit=]   runs (oldest first) and rejections as JSON
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Annotated, Any

from airflow.api_fastapi.core_api.security import requires_authenticated
from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import HTMLResponse

from behavior_sync.config import LoadedBehaviors, dag_id_for, load_behaviors
from behavior_sync.dashboard import invalid_files, overview, pair_history, rejection_counts
from behavior_sync.statedb import StateDatabase
from behavior_sync_airflow.ui import views

authenticated = requires_authenticated()
HISTORY_LIMIT = 400  # a year of daily runs and then some


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
    """The behavior files, valid and broken, read anew for each request (they change without a restart)."""
    return load_behaviors()


def now() -> dt.datetime:
    """Aware UTC now (a dependency, so tests can fix it)."""
    return dt.datetime.now(dt.UTC)


Db = Annotated[StateDatabase, Depends(state_database)]
Behaviors = Annotated[LoadedBehaviors, Depends(behaviors)]
Now = Annotated[dt.datetime, Depends(now)]
Behavior = Annotated[str, Query(min_length=1, max_length=64)]
Destination = Annotated[str, Query(min_length=1, max_length=64)]
Limit = Annotated[int, Query(ge=1, le=5000)]

app = FastAPI(title="Behavior Sync", dependencies=[Depends(authenticated)])


@app.get("/api/overview")
def api_overview(db: Db, loaded: Behaviors, moment: Now) -> dict[str, Any]:
    """Every behavior x destination with its latest run and latest sync, and the invalid behavior files."""
    return views.overview_json(overview(db, loaded.behaviors, moment), invalid_files(loaded.errors))


@app.get("/api/history")
def api_history(db: Db, behavior: Behavior, destination: Destination, limit: Limit = HISTORY_LIMIT) -> dict[str, Any]:
    """The pair's newest ``limit`` runs (oldest first) and its rejected rows by vendor code."""
    return views.history_json(
        pair_history(db, behavior, destination, limit), rejection_counts(db, behavior, destination)
    )


@app.get("/", response_class=HTMLResponse)
def overview_page(request: Request, db: Db, loaded: Behaviors, moment: Now) -> str:
    """The overview page."""
    return views.render(
        "overview.html",
        base=request.scope.get("root_path", ""),
        pairs=overview(db, loaded.behaviors, moment),
        invalid=invalid_files(loaded.errors),
        now=moment,
    )


@app.get("/detail", response_class=HTMLResponse)
def detail_page(request: Request, db: Db, behavior: Behavior, destination: Destination) -> str:
    """One behavior x destination: charts, rejections by code and the run history table (newest first)."""
    runs = pair_history(db, behavior, destination, HISTORY_LIMIT)
    return views.render(
        "detail.html",
        base=request.scope.get("root_path", ""),
        behavior=behavior,
        destination=destination,
        dag_id=dag_id_for(behavior),
        runs=list(reversed(runs)),
        charts=views.charts(runs),
        rejections=rejection_counts(db, behavior, destination),
    )
