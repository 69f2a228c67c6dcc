"""Google Ads metrics of the campaigns and ad groups that use a behavior's Customer Match list (performance read-back).

Reporting is the Google Ads API's (GoogleAdsService search, GAQL) whichever API loaded the list: a list made
through the Data Manager API lives in the same Google Ads account. ``read_google_performance``
1. finds the list's positive criteria: ``campaign_criterion`` (the whole campaign targets the list) and
   ``ad_group_criterion`` (one ad group does); negative criteria (exclusions) do not count;
2. reads, by ``segments.date`` over the window, impressions, clicks, cost_micros, conversions and
   conversions_value of those campaigns and of those ad groups whose campaign is not already counted whole
   (so nothing is counted twice);
3. reads the customer's currency (``customer.currency_code``).
Cost is converted from micros to currency units. Google reports conversions as decimals (attribution) and
always a conversions value (0 where no value is tracked). Days without impressions are absent, as Google
leaves them out. Errors go through ``GoogleAdsApiClient.call`` (the error table).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from behavior_sync.destinations.google_ads_client import GoogleAdsApiClient
from behavior_sync.destinations.google_dm_errors import GoogleAdsError
from behavior_sync.performance_store import DailyFigures, ReadWindow

METRICS = "metrics.impressions, metrics.clicks, metrics.cost_micros, metrics.conversions, metrics.conversions_value"
MICROS = 1_000_000


def read_google_performance(client: GoogleAdsApiClient, user_list_id: str, window: ReadWindow) -> list[DailyFigures]:
    """Daily figures of every campaign and ad group using user list ``user_list_id`` of the client's customer
    inside ``window``; raises ``GoogleAdsError``."""
    if not user_list_id.isdigit():
        raise GoogleAdsError(f"{client.label}: the user list id {user_list_id!r} is not a Google Ads list id")
    user_list = f"customers/{client.account_id}/userLists/{user_list_id}"
    campaign_rows = _criteria(client, "campaign_criterion", "campaign.id", user_list)
    campaigns = {str(row.campaign.id) for row in campaign_rows}
    ad_group_rows = _criteria(client, "ad_group_criterion", "ad_group.id, campaign.id", user_list)
    groups = sorted({str(row.ad_group.id) for row in ad_group_rows if str(row.campaign.id) not in campaigns})
    currency = _currency(client)
    figures = _metrics(client, "campaign", sorted(campaigns), window)
    figures += _metrics(client, "ad_group", groups, window)
    return [_figures(row, kind, user_list_id, currency) for kind, row in figures]


def _criteria(client: GoogleAdsApiClient, resource: str, fields: str, user_list: str) -> list[Any]:
    """The rows (``fields``) of ``resource``'s positive criteria on ``user_list``."""
    query = (
        f"SELECT {fields} FROM {resource} WHERE {resource}.user_list.user_list = '{user_list}' "
        f"AND {resource}.negative = FALSE"
    )
    return client.search(f"finding the {resource.replace('_', ' ')}s on the user list", query)


def _currency(client: GoogleAdsApiClient) -> str | None:
    rows = client.search("reading the customer's currency", "SELECT customer.currency_code FROM customer")
    return str(rows[0].customer.currency_code) if rows else None


def _metrics(client: GoogleAdsApiClient, resource: str, ids: list[str], window: ReadWindow) -> list[tuple[str, Any]]:
    """(resource, row) of every day with impressions of the ``resource`` objects ``ids``."""
    if not ids:
        return []
    query = (
        f"SELECT {resource}.id, {resource}.name, segments.date, {METRICS} FROM {resource} "
        f"WHERE {resource}.id IN ({', '.join(ids)}) "
        f"AND segments.date BETWEEN '{window.since.isoformat()}' AND '{window.until.isoformat()}'"
    )
    return [(resource, row) for row in client.search(f"reading the {resource.replace('_', ' ')} metrics", query)]


def _figures(row: Any, resource: str, user_list_id: str, currency: str | None) -> DailyFigures:
    item, metrics = getattr(row, resource), row.metrics
    return DailyFigures(
        day=dt.date.fromisoformat(str(row.segments.date)),
        object_type=resource,
        object_id=str(item.id),
        object_name=str(item.name),
        audience_id=user_list_id,
        currency=currency,
        impressions=int(metrics.impressions),
        clicks=int(metrics.clicks),
        spend=int(metrics.cost_micros) / MICROS,
        conversions=float(metrics.conversions),
        conversion_value=float(metrics.conversions_value),
    )
