"""The daily campaign-performance read-back: one DAG, ``behavior_sync__performance``.

Each run reads yesterday and the days before it (``days``, default 7: vendors restate recent days) of every
behavior x destination whose audience the state database remembers: Meta Insights of the ad sets targeting
the custom audience, Google Ads metrics of the campaigns and ad groups using the user list, HubSpot
marketing-email statistics of the sends to the list (``behavior_sync.destinations.*_reporting``). What is
read replaces the stored days (``performance_store.replace_range``: idempotent).

Tasks, per destination connection named in the behavior files (parse time reads those YAML files only):
``targets__<connection>`` lists the connection's behavior x destinations with a remembered audience, and
``read__<connection>`` reads each one as a mapped task instance (named ``<behavior>/<destination>``) in the
pool named after the connection, so reads share the account's quota with the loads. One destination's
failure fails its own instance only, with a message naming the behavior, the destination and what to do.

Google: reporting is the Google Ads API's. A ``google_ads_api`` destination reads through its own connection;
a Data Manager destination through its connection when that holds a developer token (its Password), else
through ``google_ads_api_default`` (the Google Ads API connection of the same customer).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import MutableMapping
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from airflow.sdk import DAG, BaseOperator, Param
from airflow.sdk.exceptions import AirflowFailException

from behavior_sync.config import load_behaviors
from behavior_sync.performance_store import DEFAULT_LOOKBACK_DAYS, REPORTED_KINDS, ReadWindow, Target

if TYPE_CHECKING:
    from behavior_sync.destinations.google_ads_client import GoogleAdsApiClient
    from behavior_sync.performance_store import DailyFigures

DAG_ID = "behavior_sync__performance"
GOOGLE_REPORTING_CONNECTION = "google_ads_api_default"
MAX_LOOKBACK_DAYS = 90
_START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def declare_performance_dag(namespace: MutableMapping[str, Any]) -> str | None:
    """Put the read-back DAG into ``namespace`` (a DAG module's globals()); returns its id, or None (no DAG)
    when no behavior file has a destination with reporting."""
    connections = reporting_connections()
    if not connections:
        return None
    dag = build_performance_dag(connections)
    namespace[dag.dag_id] = dag
    return dag.dag_id


def reporting_connections() -> list[str]:
    """The connections of the behavior files' reportable destinations (HubSpot lists, not properties), sorted."""
    return sorted(
        {
            d.connection
            for b in load_behaviors().behaviors
            for d in b.destinations
            if d.type in REPORTED_KINDS and d.settings.get("mode") != "property"
        }
    )


def build_performance_dag(connections: list[str]) -> DAG:
    """The DAG: ``targets__<connection>`` >> ``read__<connection>`` (mapped) for each of ``connections``."""
    with DAG(
        dag_id=DAG_ID,
        dag_display_name="Campaign performance read-back",
        description="Reads the vendors' daily reporting of the audiences Behavior Sync created",
        doc_md=__doc__,
        schedule="@daily",
        start_date=_START,
        catchup=False,
        max_active_runs=1,
        tags=["behavior-sync", "performance"],
        default_args={"owner": "behavior-sync", "retries": 2, "retry_delay": dt.timedelta(minutes=5)},
        params=_params(),
        auto_register=False,
    ) as dag:
        for connection in connections:
            targets = ListPerformanceTargetsOperator(task_id=f"targets__{connection}", connection=connection)
            ReadPerformanceOperator.partial(
                task_id=f"read__{connection}", pool=connection, map_index_template="{{ performance_target }}"
            ).expand(target=targets.output)
    return dag


def _params() -> dict[str, Param]:
    return {
        "days": Param(
            DEFAULT_LOOKBACK_DAYS,
            type="integer",
            minimum=1,
            maximum=MAX_LOOKBACK_DAYS,
            title="Days",
            description="How many days to read, ending yesterday (vendors restate recent days).",
        ),
        "until": Param(
            None,
            type=["null", "string"],
            format="date",
            title="Until",
            description="The last day to read (YYYY-MM-DD); empty: the day before the run's date.",
        ),
        "behaviors": Param(
            [],
            type="array",
            items={"type": "string"},
            title="Behaviors",
            description="Read only these behaviors (slugs); empty: every behavior.",
        ),
    }


def read_window(context: Any) -> ReadWindow:
    """The run's window: ``days`` days ending on ``until``, by default the day before the run's date."""
    params = context["params"]
    if params.get("until"):
        until = dt.date.fromisoformat(str(params["until"]))
    else:
        moment = context.get("data_interval_end") or context["dag_run"].run_after
        until = moment.date() - dt.timedelta(days=1)
    return ReadWindow.ending(until, int(params.get("days") or DEFAULT_LOOKBACK_DAYS))


class ListPerformanceTargetsOperator(BaseOperator):
    """Returns (XCom) the behavior x destinations of ``connection`` with a remembered audience, as plain dicts."""

    ui_color = "#e8f8f5"

    def __init__(self, *, connection: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.connection = connection

    def execute(self, context: Any) -> list[dict[str, str]]:
        from behavior_sync.performance_store import targets
        from behavior_sync_airflow.hooks.database import SyncStateHook

        wanted = set(context["params"].get("behaviors") or ())
        behaviors = [b for b in load_behaviors().behaviors if not wanted or b.slug in wanted]
        db = _state_database(SyncStateHook().get_url())
        try:
            found = [asdict(t) for t in targets(db, behaviors) if t.connection == self.connection]
        finally:
            db.close()
        self.log.info("%d behavior x destinations of connection %s to read", len(found), self.connection)
        return found


class ReadPerformanceOperator(BaseOperator):
    """Reads one behavior x destination's reporting for the run's window and stores it (replacing the window).

    Returns (XCom) counts only: rows written and reporting objects, and the window.
    """

    ui_color = "#d1f2eb"

    def __init__(self, *, target: dict[str, str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.target = target

    def execute(self, context: Any) -> dict[str, Any]:
        from behavior_sync.performance_store import replace_range
        from behavior_sync_airflow.hooks.database import SyncStateHook

        target, window = Target(**self.target), read_window(context)
        context["performance_target"] = f"{target.behavior}/{target.destination_id}"
        figures = read_target(target, window)
        db = _state_database(SyncStateHook().get_url())
        try:
            rows = replace_range(db, target, window, figures, context["dag_run"].run_id)
        finally:
            db.close()
        objects = len({(f.object_type, f.object_id) for f in figures})
        self.log.info(
            "%s: %d rows of %d objects for %s .. %s", target.label(), rows, objects, window.since, window.until
        )
        return {"rows": rows, "objects": objects, "since": window.since.isoformat(), "until": window.until.isoformat()}


def read_target(target: Target, window: ReadWindow) -> list[DailyFigures]:
    """The vendor's figures of ``target`` in ``window``. Raises the destination's error (its message names the
    behavior, the destination and what to do; the task retries), or ``AirflowFailException`` (no retry) when
    the connection to read through is missing or unusable."""
    from airflow.sdk.exceptions import AirflowNotFoundException

    from behavior_sync.connections import ConnectionSettingsError

    try:
        return _read(target, window)
    except (AirflowNotFoundException, ConnectionSettingsError) as exc:
        raise AirflowFailException(
            f"{target.label()}: the connection to read its reporting is missing or unusable ({exc}): create or fix "
            "it (Admin > Connections), then clear this task"
        ) from None


def _read(target: Target, window: ReadWindow) -> list[DailyFigures]:
    label = target.label()
    if target.destination_type == "meta":
        from behavior_sync.destinations.meta_reporting import read_meta_performance
        from behavior_sync_airflow.hooks.destinations import MetaAdsHook

        return read_meta_performance(MetaAdsHook(target.connection).get_conn(label), target.audience_id, window)
    if target.destination_type == "hubspot":
        from behavior_sync.destinations.hubspot_reporting import read_hubspot_performance
        from behavior_sync_airflow.hooks.destinations import HubSpotHook

        return read_hubspot_performance(HubSpotHook(target.connection).get_conn(label), target.audience_id, window)
    from behavior_sync.destinations.google_ads_reporting import read_google_performance

    return read_google_performance(_google_reporting_client(target), target.audience_id, window)


def _google_reporting_client(target: Target) -> GoogleAdsApiClient:
    """A Google Ads API client on the customer holding the list (module docstring: which connection). Raises
    ``AirflowFailException`` naming what to do when there is none."""
    from airflow.sdk.exceptions import AirflowNotFoundException

    from behavior_sync_airflow.hooks.destinations import GoogleAdsHook

    own = GoogleAdsHook(target.connection)
    uses_own = target.settings_api == "google_ads_api" or own.settings()[2] is not None
    hook = own if uses_own else GoogleAdsHook(GOOGLE_REPORTING_CONNECTION)
    advice = (
        f"Google reporting needs the Google Ads API: give connection {target.connection} a developer token "
        f"(Password) or create connection {GOOGLE_REPORTING_CONNECTION} for customer {target.account}"
    )
    try:
        client = hook.google_ads_api_client(f"{target.label()}, reporting through connection {hook.conn_id}")
    except AirflowNotFoundException:
        raise AirflowFailException(f"{target.label()}: {advice}") from None
    if client.account_id != target.account:
        raise AirflowFailException(
            f"{target.label()}: the list lives in customer {target.account}, connection {hook.conn_id} reads "
            f"customer {client.account_id}: {advice}"
        )
    return client


def _state_database(url: str) -> Any:
    from behavior_sync.statedb import StateDatabase

    db = StateDatabase(url)
    db.ensure_schema()
    return db
