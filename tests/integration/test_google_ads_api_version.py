"""The Google Ads API version the client speaks is one constant, and it is the version the sandbox serves.

``GOOGLE_ADS_API_VERSION`` goes to ``GoogleAdsClient(version=...)``, so every service, type and enum the SDK hands
out is of that version, whatever a newer google-ads release defaults to. The sandbox serves one version's gRPC
methods (``/google.ads.googleads.<version>.services...``): a client of another version is answered UNIMPLEMENTED.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from google.ads.googleads.client import GoogleAdsClient
from google.api_core import exceptions
from google.oauth2.credentials import Credentials

from behavior_sync.destinations.google_ads_client import (
    GOOGLE_ADS_API_VERSION,
    GoogleAdsApiClient,
    GoogleAdsApiCredentials,
    ads_credentials,
    grpc_endpoint,
)
from sandbox.google_ads.errors import API_VERSION as SANDBOX_API_VERSION
from tests.support.google_ads_harness import GADS_CUSTOMER, GADS_TOKEN, GoogleAdsHarness, google_ads_starter


@pytest.fixture()
def sandbox() -> Iterator[GoogleAdsHarness]:
    with google_ads_starter() as start:
        yield start()


def test_the_pinned_google_ads_api_version_is_the_one_the_sandbox_serves_and_every_call_uses_it(
    sandbox: GoogleAdsHarness,
) -> None:
    endpoint = grpc_endpoint(sandbox.endpoint)
    credentials = GoogleAdsApiCredentials(
        ads_credentials({}, endpoint), GADS_TOKEN, GADS_CUSTOMER, GADS_CUSTOMER, endpoint
    )
    client = GoogleAdsApiClient(credentials, "version test")

    assert GOOGLE_ADS_API_VERSION == SANDBOX_API_VERSION == "v26"
    assert client.ads.version == GOOGLE_ADS_API_VERSION and client.check_access() == 0
    operation = client.ads.get_type("OfflineUserDataJobOperation")
    assert type(operation).__module__.startswith(f"google.ads.googleads.{GOOGLE_ADS_API_VERSION}.")


def test_a_client_of_another_version_is_refused_by_the_sandbox(sandbox: GoogleAdsHarness) -> None:
    other = next(v for v in ("v25", "v24", "v23") if v != GOOGLE_ADS_API_VERSION)
    ads = GoogleAdsClient(
        credentials=Credentials(token="sandbox-oauth-token"),
        developer_token=GADS_TOKEN,
        login_customer_id=GADS_CUSTOMER,
        endpoint=sandbox.endpoint,
        use_proto_plus=True,
        version=other,
    )

    service = ads.get_service("GoogleAdsService")
    with pytest.raises(exceptions.MethodNotImplemented):  # gRPC UNIMPLEMENTED: no such method in the sandbox
        list(service.search(customer_id=GADS_CUSTOMER, query="SELECT user_list.id FROM user_list"))
