"""Campaign performance read back from the sandboxes through the official SDKs (facebook-business, google-ads,
hubspot-api-client): which ad sets, campaigns, ad groups and e-mails count for an audience, and the figures.

The sandboxes' figures are deterministic (seeded by object id and day), so the numbers below are what any
run reads; they were read once and checked by hand against the rules of each reader (what counts, what
does not, purchase value tracked or not, no double counting)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from facebook_business.adobjects.adset import AdSet
from facebook_business.exceptions import FacebookRequestError
from google.ads.googleads.errors import GoogleAdsException
from google.oauth2.credentials import Credentials
from hubspot.crm.lists.models import ListCreateRequest

from behavior_sync.destinations.google_ads_client import GoogleAdsApiClient, GoogleAdsApiCredentials
from behavior_sync.destinations.google_ads_reporting import read_google_performance
from behavior_sync.destinations.hubspot_client import HubSpotClient, HubSpotCredentials
from behavior_sync.destinations.hubspot_errors import HubSpotError
from behavior_sync.destinations.hubspot_reporting import read_hubspot_performance
from behavior_sync.destinations.meta_client import MetaClient, MetaCredentials
from behavior_sync.destinations.meta_errors import MetaError
from behavior_sync.destinations.meta_reporting import read_meta_performance
from behavior_sync.destinations.retry import RetryPolicy
from behavior_sync.performance_store import DailyFigures, ReadWindow
from tests.support.google_ads_harness import GADS_CUSTOMER, GADS_TOKEN, GoogleAdsHarness, google_ads_starter
from tests.support.hubspot_harness import HS_LISTS_READ_TOKEN, HS_PORTAL, HS_TOKEN, HubSpotHarness, hubspot_starter
from tests.support.meta_harness import ACCOUNT, TOKEN, MetaHarness, meta_starter

WINDOW = ReadWindow(dt.date(2025, 5, 30), dt.date(2025, 5, 31))  # the sandboxes' fake clocks say 2025-06-02
NO_RETRY = RetryPolicy(attempts=1, throttle_budget_seconds=0)


def by_object_and_day(figures: list[DailyFigures]) -> dict[tuple[str, str], DailyFigures]:
    return {(f.object_id, f.day.isoformat()): f for f in figures}


def ad_figures(f: DailyFigures) -> tuple[Any, ...]:
    return f.impressions, f.clicks, f.spend, f.conversions, f.conversion_value


@pytest.fixture()
def meta() -> Iterator[tuple[MetaHarness, MetaClient]]:
    with meta_starter() as start:
        sandbox = start()
        yield sandbox, MetaClient(MetaCredentials(TOKEN, f"act_{ACCOUNT}", None, sandbox.base_url), "test meta")


@pytest.fixture()
def google() -> Iterator[tuple[GoogleAdsHarness, GoogleAdsApiClient]]:
    with google_ads_starter() as start:
        sandbox = start()
        credentials = GoogleAdsApiCredentials(
            Credentials(token="sandbox-oauth-token"), GADS_TOKEN, GADS_CUSTOMER, GADS_CUSTOMER, sandbox.endpoint
        )
        yield sandbox, GoogleAdsApiClient(credentials, "test google")


@pytest.fixture()
def hubspot() -> Iterator[HubSpotHarness]:
    with hubspot_starter() as start:
        yield start()


def hubspot_client(sandbox: HubSpotHarness, token: str = HS_TOKEN) -> HubSpotClient:
    credentials = HubSpotCredentials(token, str(HS_PORTAL), "professional", sandbox.base_url)
    return HubSpotClient(credentials, "behavior value_hunters, destination hubspot_list (HubSpot)", NO_RETRY)


def test_meta_reads_the_insights_of_the_ad_sets_targeting_the_audience_and_no_other(
    meta: tuple[MetaHarness, MetaClient],
) -> None:
    _, client = meta
    audiences = [client.create_audience(f"Behavior {i}", "", "USER_PROVIDED_ONLY") for i in range(3)]
    audience = audiences[2]
    figures = read_meta_performance(client, audience, WINDOW)
    # A01 targets it (custom_audiences), A02 through flexible_spec; A09 only excludes it; the other audiences'
    # ad sets target other audiences.
    assert {f.object_id for f in figures} == {f"{audience}01", f"{audience}02"}
    found = by_object_and_day(figures)
    prospecting = found[f"{audience}01", "2025-05-30"]
    assert (prospecting.object_type, prospecting.object_name, prospecting.currency) == (
        "adset",
        "Prospecting - Behavior 2",
        "USD",
    )
    assert ad_figures(prospecting) == (5566, 95, 169.21, 1.0, 131.72)  # omni_purchase counted once
    assert ad_figures(found[f"{audience}01", "2025-05-31"]) == (2372, 71, 43.01, 2.0, 173.03)
    # Leads only: conversions are leads and no purchase value is tracked (no ROAS).
    assert ad_figures(found[f"{audience}02", "2025-05-30"]) == (4153, 20, 26.33, 0.0, None)
    assert ad_figures(found[f"{audience}02", "2025-05-31"]) == (1229, 23, 8.31, 1.0, None)
    assert read_meta_performance(client, audience, WINDOW) == figures  # the same request, the same numbers


def test_meta_insights_refuse_what_meta_refuses(meta: tuple[MetaHarness, MetaClient]) -> None:
    sandbox, client = meta
    audience = client.create_audience("Behavior", "", "USER_PROVIDED_ONLY")
    ad_set = AdSet(f"{audience}01", api=sandbox.api())
    with pytest.raises(FacebookRequestError) as backwards:
        ad_set.get_insights(
            fields=["impressions"], params={"time_range": {"since": "2025-05-31", "until": "2025-05-01"}}
        )
    assert backwards.value.api_error_code() == 100
    with pytest.raises(FacebookRequestError) as too_old:
        ad_set.get_insights(
            fields=["impressions"], params={"time_range": {"since": "2019-01-01", "until": "2019-01-02"}}
        )
    assert too_old.value.api_error_code() == 3018
    with pytest.raises(FacebookRequestError) as unknown:
        AdSet(f"{audience}05", api=sandbox.api()).get_insights(fields=["impressions"])
    assert (unknown.value.api_error_code(), unknown.value.api_error_subcode()) == (100, 33)
    stranger = MetaClient(MetaCredentials("other-account-token", f"act_{ACCOUNT}", None, sandbox.base_url), "label x")
    with pytest.raises(MetaError, match=r"label x: .*token has no access to the ad account"):
        read_meta_performance(stranger, audience, WINDOW)


def test_google_reads_the_campaigns_and_ad_groups_using_the_list_and_counts_each_once(
    google: tuple[GoogleAdsHarness, GoogleAdsApiClient],
) -> None:
    _, client = google
    # A list made through the Data Manager API: the Google Ads account knows it by id.
    figures = read_google_performance(client, "5000", ReadWindow(dt.date(2025, 5, 30), dt.date(2025, 6, 5)))
    # 500002 targets the list as a whole campaign; ad groups 500011 / 500012 of campaign 500001 each target it;
    # campaign 500003 excludes it (negative criterion).
    assert {(f.object_type, f.object_id) for f in figures} == {
        ("campaign", "500002"),
        ("ad_group", "500011"),
        ("ad_group", "500012"),
    }
    assert max(f.day for f in figures) == dt.date(2025, 6, 2)  # nothing after the sandbox's today
    found = by_object_and_day(figures)
    display = found["500002", "2025-05-30"]
    assert (display.object_name, display.currency, display.audience_id) == ("Display - User list 5000", "USD", "5000")
    assert ad_figures(display) == (2709, 45, 72.86, 1.0, 55.75)  # cost_micros / 1e6
    assert ad_figures(found["500011", "2025-05-31"]) == (1558, 36, 21.94, 3.0, 384.0)
    assert ad_figures(found["500012", "2025-06-01"]) == (574, 7, 5.17, 0.0, 0.0)


def test_google_reporting_queries_follow_gaql_rules(google: tuple[GoogleAdsHarness, GoogleAdsApiClient]) -> None:
    sandbox, _ = google
    service = sandbox.service("GoogleAdsService")
    no_range = "SELECT ad_group.id, segments.date, metrics.clicks FROM ad_group WHERE ad_group.id = 500011"
    with pytest.raises(GoogleAdsException) as missing:
        list(service.search(customer_id=GADS_CUSTOMER, query=no_range))
    assert missing.value.failure.errors[0].error_code.query_error.name == "EXPECTED_FILTERS_ON_DATE_RANGE"
    metrics_on_criteria = "SELECT metrics.clicks FROM campaign_criterion"
    with pytest.raises(GoogleAdsException) as prohibited:
        list(service.search(customer_id=GADS_CUSTOMER, query=metrics_on_criteria))
    assert (
        prohibited.value.failure.errors[0].error_code.query_error.name == "PROHIBITED_METRIC_IN_SELECT_OR_WHERE_CLAUSE"
    )
    negative = (
        "SELECT campaign.id, campaign_criterion.negative FROM campaign_criterion "
        "WHERE campaign_criterion.user_list.user_list = 'customers/1234567890/userLists/5000' "
        "AND campaign_criterion.negative = TRUE"
    )
    assert [row.campaign.id for row in service.search(customer_id=GADS_CUSTOMER, query=negative)] == [500003]


def test_hubspot_reads_the_statistics_of_the_emails_sent_to_the_list(hubspot: HubSpotHarness) -> None:
    client = hubspot_client(hubspot)
    lists = client.sdk.crm.lists.lists_api
    for name in ("BEH - Value Hunters", "BEH - Other"):
        lists.create(ListCreateRequest(name=name, object_type_id="0-1", processing_type="MANUAL"))
    figures = read_hubspot_performance(client, "1", ReadWindow(dt.date(2025, 5, 20), dt.date(2025, 6, 2)))
    # The weekly newsletters to list 1 sent in the window; not list 2's, not list 1's unpublished draft.
    assert [(f.object_id, f.day.isoformat()) for f in figures] == [("102889", "2025-05-23"), ("102890", "2025-05-30")]
    last = figures[-1]
    assert (last.object_type, last.object_name, last.audience_id) == ("email", "Newsletter 2025-05-30 - list 1", "1")
    assert (last.sent, last.delivered, last.opens, last.clicks, last.unsubscribes) == (553, 545, 204, 54, 4)
    assert last.impressions is None and last.spend is None


def test_hubspot_without_the_email_scope_fails_naming_the_scope(hubspot: HubSpotHarness) -> None:
    client = hubspot_client(hubspot, HS_LISTS_READ_TOKEN)
    with pytest.raises(HubSpotError, match=r"behavior value_hunters, destination hubspot_list.*HTTP 403.*content"):
        read_hubspot_performance(client, "1", WINDOW)
