"""Meta Insights of the ad sets that target a behavior's custom audience (campaign performance read-back).

``read_meta_performance`` lists the ad account's ad sets (``GET act_<id>/adsets?fields=id,name,targeting``)
and keeps those whose targeting includes the audience: in ``targeting.custom_audiences`` or in a
``flexible_spec`` entry, never one that only excludes it (``excluded_custom_audiences``). For each it reads
``GET /{adset}/insights`` by day (``time_increment=1``, level adset) over the window: impressions, clicks,
spend, actions and action_values. Meta counts one purchase under several action types (``omni_purchase``,
``purchase``, ``offsite_conversion.fb_pixel_purchase``): the first present is the one counted. An ad set with
a purchase value anywhere in the window tracks purchases: its conversions are purchases and its value the
purchase value (0 on days without). Otherwise its conversions are leads and its value is None (not
tracked: no ROAS). Days without delivery are absent, as Meta leaves them out. Errors go through
``MetaClient.call`` (the error table; permission ``ads_read`` is enough).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from facebook_business.adobjects.adaccount import AdAccount
from facebook_business.adobjects.adset import AdSet

from behavior_sync.destinations.meta_client import MetaClient
from behavior_sync.performance_store import DailyFigures, ReadWindow

AD_SET_FIELDS = ("id", "name", "targeting")
INSIGHT_FIELDS = (
    "adset_id",
    "adset_name",
    "impressions",
    "clicks",
    "spend",
    "actions",
    "action_values",
    "account_currency",
)
PURCHASE_TYPES = ("omni_purchase", "purchase", "offsite_conversion.fb_pixel_purchase")
LEAD_TYPES = ("lead", "onsite_conversion.lead_grouped", "offsite_conversion.fb_pixel_lead")
PAGE_SIZE = 100


def targeted_audiences(targeting: Mapping[str, Any] | None) -> set[str]:
    """The custom audience ids an ad set's targeting includes (top level or in ``flexible_spec``)."""
    spec = targeting or {}
    groups = [spec, *(spec.get("flexible_spec") or [])]
    return {str(a.get("id")) for group in groups for a in (group.get("custom_audiences") or [])}


def ad_sets_using(client: MetaClient, audience_id: str) -> list[tuple[str, str]]:
    """(id, name) of the account's ad sets whose targeting includes ``audience_id``."""

    def scan() -> list[tuple[str, str]]:
        cursor = AdAccount(client.account_id, api=client.api).get_ad_sets(
            fields=list(AD_SET_FIELDS), params={"limit": PAGE_SIZE}
        )
        sets = [s.export_all_data() for s in cursor]
        return [
            (str(s["id"]), str(s.get("name", "")))
            for s in sets
            if audience_id in targeted_audiences(s.get("targeting"))
        ]

    return client.call("listing the ad account's ad sets", scan)


def read_meta_performance(client: MetaClient, audience_id: str, window: ReadWindow) -> list[DailyFigures]:
    """Daily figures of every ad set targeting ``audience_id`` inside ``window``; raises ``MetaError``."""
    figures: list[DailyFigures] = []
    for ad_set_id, name in ad_sets_using(client, audience_id):
        rows = _insights(client, ad_set_id, window)
        tracks_value = any(_first(row.get("action_values"), PURCHASE_TYPES) is not None for row in rows)
        figures += [_figures(row, ad_set_id, name, audience_id, tracks_value) for row in rows]
    return figures


def _insights(client: MetaClient, ad_set_id: str, window: ReadWindow) -> list[dict[str, Any]]:
    params = {
        "time_range": {"since": window.since.isoformat(), "until": window.until.isoformat()},
        "time_increment": "1",
        "level": "adset",
        "limit": PAGE_SIZE,
    }

    def read() -> list[dict[str, Any]]:
        cursor = AdSet(ad_set_id, api=client.api).get_insights(fields=list(INSIGHT_FIELDS), params=params)
        return [dict(row.export_all_data()) for row in cursor]

    return client.call(f"reading the insights of ad set {ad_set_id}", read)


def _figures(row: Mapping[str, Any], ad_set_id: str, name: str, audience_id: str, tracks_value: bool) -> DailyFigures:
    actions, values = row.get("actions"), row.get("action_values")
    purchases = _first(actions, PURCHASE_TYPES)
    conversions = (purchases or 0.0) if tracks_value else (_first(actions, LEAD_TYPES) or 0.0)
    return DailyFigures(
        day=dt.date.fromisoformat(str(row["date_start"])),
        object_type="adset",
        object_id=ad_set_id,
        object_name=str(row.get("adset_name") or name),
        audience_id=audience_id,
        currency=row.get("account_currency"),
        impressions=int(row.get("impressions") or 0),
        clicks=int(row.get("clicks") or 0),
        spend=float(row.get("spend") or 0.0),
        conversions=conversions,
        conversion_value=(_first(values, PURCHASE_TYPES) or 0.0) if tracks_value else None,
    )


def _first(stats: Sequence[Mapping[str, Any]] | None, kinds: Sequence[str]) -> float | None:
    """The value of the first of ``kinds`` present in an actions / action_values list, or None."""
    by_type = {str(s.get("action_type")): s.get("value") for s in stats or ()}
    return next((float(str(by_type[kind])) for kind in kinds if kind in by_type), None)
