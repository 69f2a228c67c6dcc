"""Campaigns, ad groups and their metrics: the reporting side of the Google Ads sandbox (GoogleAdsService.Search).

The seed: every user list L of the customer is used by campaigns a marketer made (the sandbox has no
campaign writes). The lists are those the sandbox holds and those a query names, by resource name or by
the id of one of their campaigns or ad groups (a list made through the Data Manager API lives in the same
Google Ads account). List L has
* campaign ``L*100+1`` "Search - <list>" (SEARCH): ad groups ``L*100+11`` and, for about half the lists
  (``sha256`` of the id), ``L*100+12`` each target L (``ad_group_criterion``, criterion 1001 / 1002);
* campaign ``L*100+2`` "Display - <list>" (DISPLAY) targets L itself (``campaign_criterion`` 2001), ad group
  ``L*100+21``;
* campaign ``L*100+3`` "Prospecting excluding <list>" excludes L (``campaign_criterion`` 2002, negative),
  ad group ``L*100+31``.
Every ad group delivered every day up to the sandbox's today (UTC), with the figures of ``common.reporting``;
a campaign's metrics are the sums of its ad groups'. Metrics come by ``segments.date`` over a date range
only; rows without impressions are left out, as Google does. The customer reports in USD.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass

from google.ads.googleads.v26.common.types.criteria import UserListInfo
from google.ads.googleads.v26.common.types.metrics import Metrics
from google.ads.googleads.v26.common.types.segments import Segments
from google.ads.googleads.v26.enums.types.advertising_channel_type import AdvertisingChannelTypeEnum
from google.ads.googleads.v26.enums.types.criterion_type import CriterionTypeEnum
from google.ads.googleads.v26.resources.types.ad_group import AdGroup
from google.ads.googleads.v26.resources.types.ad_group_criterion import AdGroupCriterion
from google.ads.googleads.v26.resources.types.campaign import Campaign
from google.ads.googleads.v26.resources.types.campaign_criterion import CampaignCriterion
from google.ads.googleads.v26.resources.types.customer import Customer
from google.ads.googleads.v26.services.types.google_ads_service import GoogleAdsRow

from sandbox.common.reporting import AdDay, ad_day, unit
from sandbox.google_ads.errors import ads_error
from sandbox.google_ads.gaql import REPORTED, Query
from sandbox.google_ads.store import Store

CURRENCY = "USD"
RESOURCES = frozenset({"customer", "campaign", "ad_group", "campaign_criterion", "ad_group_criterion"})
_LIST_NAME = re.compile(r"customers/(\d+)/userLists/(\d+)")
_USER_LIST = CriterionTypeEnum.CriterionType.USER_LIST


@dataclass(frozen=True)
class SeededCampaign:
    """One seeded campaign: id, name, its ad groups' ids, and how it uses the list (ad_group, campaign,
    excluded)."""

    id: int
    name: str
    ad_groups: tuple[int, ...]
    use: str


def campaigns_of(list_id: int, list_name: str) -> list[SeededCampaign]:
    """The campaigns the seed gives user list ``list_id``."""
    base = list_id * 100
    search_groups = (base + 11, base + 12) if unit(str(list_id), "second ad group") < 0.5 else (base + 11,)
    return [
        SeededCampaign(base + 1, f"Search - {list_name}", search_groups, "ad_group"),
        SeededCampaign(base + 2, f"Display - {list_name}", (base + 21,), "campaign"),
        SeededCampaign(base + 3, f"Prospecting excluding {list_name}", (base + 31,), "excluded"),
    ]


def rows(store: Store, customer_id: str, query: Query, today: dt.date) -> list[GoogleAdsRow]:
    """Every row of ``query``'s FROM resource (before filtering), for the lists in scope."""
    if query.resource == "customer":
        return [GoogleAdsRow(customer=_customer(customer_id))]
    lists = _lists_in_scope(store, customer_id, query)
    if query.resource.endswith("_criterion"):
        return [row for list_id, name in lists for row in _criteria(customer_id, list_id, name, query.resource)]
    dates = _dates(query, today)
    return [row for list_id, name in lists for row in _metric_rows(customer_id, list_id, name, query.resource, dates)]


def _customer(customer_id: str) -> Customer:
    return Customer(
        resource_name=f"customers/{customer_id}",
        id=int(customer_id),
        descriptive_name=f"Sandbox customer {customer_id}",
        currency_code=CURRENCY,
        time_zone="America/New_York",
    )


def _lists_in_scope(store: Store, customer_id: str, query: Query) -> list[tuple[int, str]]:
    """(list id, name) of the customer's stored lists and of those the query names."""
    prefix = f"customers/{customer_id}/userLists/"
    lists = {r.list_id: r.name for name, r in store.user_lists.items() if name.startswith(prefix)}
    for condition in query.filters:
        for value in condition.values:
            named = _LIST_NAME.fullmatch(value)
            if named and named[1] == customer_id:
                lists.setdefault(int(named[2]), f"User list {named[2]}")
            elif condition.path in {"campaign.id", "ad_group.id"} and value.isdigit() and int(value) >= 100:
                lists.setdefault(int(value) // 100, f"User list {int(value) // 100}")
    return sorted(lists.items())


def _campaign(customer_id: str, campaign: SeededCampaign) -> Campaign:
    channel = AdvertisingChannelTypeEnum.AdvertisingChannelType
    return Campaign(
        resource_name=f"customers/{customer_id}/campaigns/{campaign.id}",
        id=campaign.id,
        name=campaign.name,
        advertising_channel_type=channel.SEARCH if campaign.use == "ad_group" else channel.DISPLAY,
    )


def _ad_group(customer_id: str, campaign: SeededCampaign, ad_group_id: int) -> AdGroup:
    return AdGroup(
        resource_name=f"customers/{customer_id}/adGroups/{ad_group_id}",
        id=ad_group_id,
        name=f"{campaign.name} - ad group {ad_group_id % 100}",
        campaign=f"customers/{customer_id}/campaigns/{campaign.id}",
    )


def _criteria(customer_id: str, list_id: int, name: str, resource: str) -> Iterator[GoogleAdsRow]:
    user_list = UserListInfo(user_list=f"customers/{customer_id}/userLists/{list_id}")
    for campaign in campaigns_of(list_id, name):
        if resource == "campaign_criterion" and campaign.use != "ad_group":
            criterion_id = 2001 if campaign.use == "campaign" else 2002
            criterion = CampaignCriterion(
                resource_name=f"customers/{customer_id}/campaignCriteria/{campaign.id}~{criterion_id}",
                campaign=f"customers/{customer_id}/campaigns/{campaign.id}",
                criterion_id=criterion_id,
                negative=campaign.use == "excluded",
                type_=_USER_LIST,
                user_list=user_list,
            )
            yield GoogleAdsRow(campaign_criterion=criterion, campaign=_campaign(customer_id, campaign))
        if resource == "ad_group_criterion" and campaign.use == "ad_group":
            for index, ad_group_id in enumerate(campaign.ad_groups, start=1):
                criterion = AdGroupCriterion(
                    resource_name=f"customers/{customer_id}/adGroupCriteria/{ad_group_id}~{1000 + index}",
                    ad_group=f"customers/{customer_id}/adGroups/{ad_group_id}",
                    criterion_id=1000 + index,
                    negative=False,
                    type_=_USER_LIST,
                    user_list=user_list,
                )
                ad_group = _ad_group(customer_id, campaign, ad_group_id)
                yield GoogleAdsRow(
                    ad_group_criterion=criterion, ad_group=ad_group, campaign=_campaign(customer_id, campaign)
                )


def _dates(query: Query, today: dt.date) -> list[dt.date | None]:
    """The days to report (up to ``today``), or [None] when the query selects no metrics or segments."""
    if not {f.split(".", 1)[0] for f in query.fields} & REPORTED:
        return [None]
    span = query.date_range()
    if span is None:
        raise ads_error("query_error", "QUERY_ERROR", "the sandbox reports metrics by segments.date over a date range")
    first, last = span[0], min(span[1], today)
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


def _metric_rows(
    customer_id: str, list_id: int, name: str, resource: str, dates: list[dt.date | None]
) -> Iterator[GoogleAdsRow]:
    for campaign in campaigns_of(list_id, name):
        for day in dates:
            if resource == "campaign":
                days = [ad_day(f"google:{g}", day) for g in campaign.ad_groups] if day else []
                yield from _with_metrics(GoogleAdsRow(campaign=_campaign(customer_id, campaign)), day, days)
                continue
            for ad_group_id in campaign.ad_groups:
                row = GoogleAdsRow(
                    ad_group=_ad_group(customer_id, campaign, ad_group_id), campaign=_campaign(customer_id, campaign)
                )
                yield from _with_metrics(row, day, [ad_day(f"google:{ad_group_id}", day)] if day else [])


def _with_metrics(row: GoogleAdsRow, day: dt.date | None, days: list[AdDay]) -> Iterator[GoogleAdsRow]:
    """``row`` with the summed figures of ``days`` for ``day``; nothing when it had no impressions."""
    if day is None:
        yield row
        return
    impressions = sum(d.impressions for d in days)
    if not impressions:
        return
    row.metrics = Metrics(
        impressions=impressions,
        clicks=sum(d.clicks for d in days),
        cost_micros=round(sum(d.spend for d in days) * 1_000_000),
        conversions=float(sum(d.purchases for d in days)),
        conversions_value=round(sum(d.purchase_value for d in days), 2),
    )
    row.segments = Segments(date=day.isoformat())
    yield row
