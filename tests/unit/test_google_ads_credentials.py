"""Google Ads API credentials and endpoint from a google_ads connection (no network: nothing is refreshed)."""

from __future__ import annotations

import pytest

from behavior_sync.destinations.google_ads_client import SANDBOX_OAUTH_TOKEN, SCOPE, ads_credentials, grpc_endpoint
from behavior_sync.destinations.google_dm_errors import GoogleAdsError


def test_the_sandbox_gets_a_static_token_that_is_never_refreshed() -> None:
    credentials = ads_credentials({"refresh_token": "ignored"}, grpc_endpoint("127.0.0.1:8705"))
    assert credentials.token == SANDBOX_OAUTH_TOKEN and credentials.refresh_token is None and credentials.valid


def test_google_gets_the_oauth_client_with_the_adwords_scope() -> None:
    extras = {"client_id": "id", "client_secret": "secret", "refresh_token": "refresh"}
    credentials = ads_credentials(extras, None)
    assert credentials.scopes == [SCOPE] and credentials.token is None  # fetched on the first call, not here


def test_without_credentials_the_message_says_what_to_set() -> None:
    with pytest.raises(GoogleAdsError, match="adwords"):
        ads_credentials({}, None)


@pytest.mark.parametrize(
    ("host", "endpoint"), [(None, None), ("127.0.0.1:8705", "127.0.0.1:8705"), ("localhost:1", "localhost:1")]
)
def test_only_the_local_sandbox_may_replace_googles_endpoint(host: str | None, endpoint: str | None) -> None:
    assert grpc_endpoint(host) == endpoint
    with pytest.raises(GoogleAdsError, match="local sandbox"):
        grpc_endpoint("googleads.example.com:443")
