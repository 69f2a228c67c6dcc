"""Registers the Behavior Sync page with Airflow (entry point ``airflow.plugins`` in pyproject.toml).

The api-server mounts the app at ``/behavior-sync``; the nav entry "Behavior Sync" (under Browse) shows
it inside the Airflow UI at ``/plugin/behavior-sync``. The campaign-performance routes (``ui_performance``:
``/performance``, ``/api/performance``, ``/api/performance.csv``) are part of the same app.
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from behavior_sync_airflow.ui.app import app
from behavior_sync_airflow.ui_performance import router as performance

app.include_router(performance)

URL_PREFIX = "/behavior-sync"


class BehaviorSyncUiPlugin(AirflowPlugin):
    """The FastAPI app and its nav entry."""

    name = "behavior_sync_ui"
    # AirflowPlugin declares these as plain class attributes (a ClassVar would not type-check).
    fastapi_apps = [{"app": app, "url_prefix": URL_PREFIX, "name": "Behavior Sync"}]  # noqa: RUF012
    external_views = [  # noqa: RUF012
        {
            "name": "Behavior Sync",
            "href": f"{URL_PREFIX}/",
            "destination": "nav",
            "category": "browse",
            "url_route": "behavior-sync",
        }
    ]
