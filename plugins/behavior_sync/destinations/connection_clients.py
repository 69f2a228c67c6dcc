"""A connection's fields -> a destination's credentials and API client (pure core: no Airflow).

The Airflow hooks (``behavior_sync_airflow.hooks.destinations``) read a connection and call these; the CLI
calls them with what ``connections.read_connection`` found. ``extras`` are validated against the connection
type's schema here, so both paths refuse the same bad settings (``ConnectionSettingsError``); a missing
secret or a host that is not the local sandbox raises the destination's error type. Secrets never appear in
an error or a ``repr``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import requests

from behavior_sync.connections import ConnectionValues, validated_extras
from behavior_sync.destinations.retry import RetryPolicy

if TYPE_CHECKING:
    from behavior_sync.destinations.clevertap_client import CleverTapClient
    from behavior_sync.destinations.google_ads_client import GoogleAdsApiCredentials
    from behavior_sync.destinations.google_dm import UserListClient
    from behavior_sync.destinations.google_dm_client import DataManagerCredentials
    from behavior_sync.destinations.hubspot_client import HubSpotClient
    from behavior_sync.destinations.meta_client import MetaClient, MetaCredentials

# Connection type of each destination type (include/schemas/connections/<connection type>.json).
CONNECTION_TYPES = {"meta": "meta_ads", "google_ads": "google_ads", "hubspot": "hubspot", "clevertap": "clevertap"}


def meta_credentials(conn_id: str, extras: Mapping[str, Any], host: str | None, token: str | None) -> MetaCredentials:
    """A meta_ads connection as credentials. Raises ``MetaError`` (no token, or a non-sandbox host)."""
    from behavior_sync.destinations.meta_client import MetaCredentials, api_base_url
    from behavior_sync.destinations.meta_errors import MetaError

    if not token:
        raise MetaError(f"connection {conn_id!r} has no access token: put it in the Password field")
    return MetaCredentials(token, extras["ad_account_id"], extras.get("app_secret"), api_base_url(host))


def data_manager_credentials(extras: Mapping[str, Any], host: str | None) -> DataManagerCredentials:
    """A google_ads connection as Data Manager credentials. Raises ``GoogleAdsError`` (no credentials, a
    non-sandbox host)."""
    from behavior_sync.destinations.google_dm_client import DataManagerCredentials, api_endpoint, google_credentials

    endpoint = api_endpoint(host)
    return DataManagerCredentials(
        google_credentials(extras, endpoint),
        extras["customer_id"],
        extras.get("login_customer_id"),
        endpoint,
        bool(extras.get("customer_match_terms_accepted")),
    )


def google_ads_api_credentials(
    conn_id: str, extras: Mapping[str, Any], host: str | None, developer_token: str | None
) -> GoogleAdsApiCredentials:
    """A google_ads connection as Google Ads API credentials (developer token: the password). Raises
    ``GoogleAdsError`` (no credentials or developer token, a non-sandbox host)."""
    from behavior_sync.destinations.google_ads_client import GoogleAdsApiCredentials, ads_credentials, grpc_endpoint
    from behavior_sync.destinations.google_dm_errors import GoogleAdsError

    if not developer_token:
        raise GoogleAdsError(
            f"the google_ads connection {conn_id} has no developer token (its password): the Google Ads "
            "API needs one; or switch the destination to api: data_manager"
        )
    endpoint = grpc_endpoint(host)
    credentials = ads_credentials(extras, endpoint)
    return GoogleAdsApiCredentials(
        credentials, developer_token, extras["customer_id"], extras.get("login_customer_id"), endpoint
    )


def clevertap_account(
    conn_id: str, extras: Mapping[str, Any], host: str | None, passcode: str | None
) -> tuple[str, str, str]:
    """(account id, passcode, API base URL) of a clevertap connection. Raises ``CleverTapError`` (no passcode,
    a bad host or region)."""
    from behavior_sync.destinations.clevertap_client import api_base_url
    from behavior_sync.destinations.clevertap_errors import CleverTapError

    if not passcode:
        raise CleverTapError(f"connection {conn_id!r} has no passcode: put it in the Password field")
    return str(extras["account_id"]), passcode, api_base_url(host, str(extras["region"]))


def client_for(
    destination_type: str, settings: Mapping[str, Any], conn_id: str, conn: ConnectionValues, label: str
) -> MetaClient | HubSpotClient | CleverTapClient | UserListClient:
    """The API client of a destination (``settings``: its behavior-file settings; Google's ``api`` picks the
    client) on the connection ``conn`` (id ``conn_id``). Raises ``ConnectionSettingsError`` (bad extras) or the
    destination's error type."""
    extras = validated_extras(CONNECTION_TYPES[destination_type], conn_id, conn.extra)
    host, secret, policy = conn.host or None, conn.password or None, RetryPolicy()
    if destination_type == "meta":
        from behavior_sync.destinations.meta_client import MetaClient

        return MetaClient(meta_credentials(conn_id, extras, host, secret), label, policy)
    if destination_type == "hubspot":
        from behavior_sync.destinations.hubspot_client import HubSpotClient, HubSpotCredentials

        return HubSpotClient(HubSpotCredentials.of_connection(conn_id, extras, host, secret), label, policy)
    if destination_type == "clevertap":
        return _clevertap(conn_id, extras, host, secret, label)
    return _google(str(settings.get("api") or "data_manager"), conn_id, extras, host, secret, label)


def _clevertap(
    conn_id: str, extras: Mapping[str, Any], host: str | None, secret: str | None, label: str
) -> CleverTapClient:
    from behavior_sync.destinations.clevertap_client import CleverTapClient, credential_headers

    account_id, passcode, base_url = clevertap_account(conn_id, extras, host, secret)
    session = requests.Session()
    session.headers.update(credential_headers(account_id, passcode))
    return CleverTapClient(session, base_url, account_id, label)


def _google(
    api: str, conn_id: str, extras: Mapping[str, Any], host: str | None, secret: str | None, label: str
) -> UserListClient:
    if api == "google_ads_api":
        from behavior_sync.destinations.google_ads_client import GoogleAdsApiClient

        return GoogleAdsApiClient(google_ads_api_credentials(conn_id, extras, host, secret), label)
    from behavior_sync.destinations.google_dm_client import DataManagerClient

    return DataManagerClient(data_manager_credentials(extras, host), label)
