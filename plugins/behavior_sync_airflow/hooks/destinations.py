"""Connection types of the four destinations.

Each hook reads one destination account's connection and validates its extras
(``include/schemas/connections/<type>.json``). The API clients built on these
settings belong to each destination's own module (``behavior_sync.destinations``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.providers.http.hooks.http import HttpHook
from requests import Session

from behavior_sync.connections import ConnectionValues, validated_extras
from behavior_sync_airflow.hooks.base import ValidatedConnectionHook

if TYPE_CHECKING:
    from behavior_sync.destinations.clevertap_client import CleverTapClient
    from behavior_sync.destinations.google_ads_client import GoogleAdsApiClient, GoogleAdsApiCredentials
    from behavior_sync.destinations.google_dm import UserListClient
    from behavior_sync.destinations.google_dm_client import DataManagerClient, DataManagerCredentials
    from behavior_sync.destinations.hubspot_client import HubSpotClient, HubSpotCredentials
    from behavior_sync.destinations.meta_client import MetaClient, MetaCredentials
    from behavior_sync.destinations.retry import RetryPolicy


def connection_values(conn_id: str) -> ConnectionValues:
    """An Airflow connection's fields as the core reads them (``connection_clients``: the reconcile step builds its
    read-back clients from them). Raises ``AirflowNotFoundException`` for a missing connection."""
    conn = ValidatedConnectionHook.get_connection(conn_id)
    return ConnectionValues(conn.conn_type or "", conn.host or None, conn.password or None, conn.extra_dejson)


class MetaAdsHook(ValidatedConnectionHook):
    """One Meta ad account (connection type ``meta_ads``).

    Password: access token; extras: ``ad_account_id``, optional ``app_secret`` (appsecret_proof);
    Host: empty (Meta) or the local sandbox only. The token is never logged.
    """

    conn_type = "meta_ads"
    conn_name_attr = "meta_conn_id"
    default_conn_name = "meta_default"
    hook_name = "Meta Ads (Custom Audiences)"

    def credentials(self) -> MetaCredentials:
        """The connection as explicit credentials. Raises ``MetaError`` (no token, or a non-sandbox host)
        and ``ConnectionSettingsError`` (bad extras)."""
        from behavior_sync.destinations.connection_clients import meta_credentials

        return meta_credentials(self.conn_id, *self.settings())

    def get_conn(self, label: str | None = None, policy: RetryPolicy | None = None) -> MetaClient:
        """A client for the connection's ad account; ``label`` names the behavior and destination in errors."""
        from behavior_sync.destinations.meta_client import MetaClient

        return MetaClient(self.credentials(), label or f"connection {self.conn_id}", policy)

    def test_connection(self) -> tuple[bool, str]:
        """Lists the ad account's audiences: checks the token and the account permission (no write)."""
        from behavior_sync.connections import ConnectionSettingsError
        from behavior_sync.destinations.meta_errors import MetaError
        from behavior_sync.destinations.retry import RetryPolicy

        try:
            client = self.get_conn(policy=RetryPolicy(attempts=1, throttle_budget_seconds=0))
            client.check_access()
        except (MetaError, ConnectionSettingsError) as exc:
            return False, str(exc)
        return True, f"the token can read ad account {client.account_id}"


class GoogleAdsHook(ValidatedConnectionHook):
    """One Google Ads customer (connection type ``google_ads``).

    Extras: ``customer_id`` (the operating account), optional ``login_customer_id`` (a manager account),
    Google credentials (``service_account_json``, or ``client_id``/``client_secret``/``refresh_token``),
    ``customer_match_terms_accepted``. Password: the developer token (Google Ads API only). Host: empty
    (Google) or the local sandbox, reached with anonymous credentials that never refresh. Which API a
    destination uses is its ``api`` setting in the behavior file; ``client_for(api)`` builds its client.
    """

    conn_type = "google_ads"
    conn_name_attr = "google_ads_conn_id"
    default_conn_name = "google_ads_default"
    hook_name = "Google Ads (Customer Match)"

    def data_manager_credentials(self) -> DataManagerCredentials:
        """The connection as Data Manager credentials. Raises ``GoogleAdsError`` (no credentials, a non-sandbox
        host) and ``ConnectionSettingsError`` (bad extras)."""
        from behavior_sync.destinations.connection_clients import data_manager_credentials

        extras, host, _developer_token = self.settings()
        return data_manager_credentials(extras, host)

    def data_manager_client(self, label: str | None = None, policy: RetryPolicy | None = None) -> DataManagerClient:
        """A Data Manager API client for the operating account; ``label`` names the behavior and destination."""
        from behavior_sync.destinations.google_dm_client import DataManagerClient

        return DataManagerClient(self.data_manager_credentials(), label or f"connection {self.conn_id}", policy)

    def google_ads_api_credentials(self) -> GoogleAdsApiCredentials:
        """The connection as Google Ads API credentials (developer token: the password). Raises ``GoogleAdsError``
        (no credentials or developer token, a non-sandbox host) and ``ConnectionSettingsError`` (bad extras)."""
        from behavior_sync.destinations.connection_clients import google_ads_api_credentials

        return google_ads_api_credentials(self.conn_id, *self.settings())

    def google_ads_api_client(
        self, label: str | None = None, policy: RetryPolicy | None = None, identifiers_per_request: int | None = None
    ) -> GoogleAdsApiClient:
        """A Google Ads API client for the customer; ``label`` names the behavior and destination;
        ``identifiers_per_request`` bounds each AddOfflineUserDataJobOperations request (default 10,000)."""
        from behavior_sync.destinations.google_ads_client import DEFAULT_IDENTIFIERS_PER_REQUEST, GoogleAdsApiClient

        label = label or f"connection {self.conn_id}"
        size = identifiers_per_request or DEFAULT_IDENTIFIERS_PER_REQUEST
        return GoogleAdsApiClient(self.google_ads_api_credentials(), label, policy, identifiers_per_request=size)

    def client_for(
        self,
        api: str,
        label: str | None = None,
        policy: RetryPolicy | None = None,
        identifiers_per_request: int | None = None,
    ) -> UserListClient:
        """The client of a destination's ``api`` (``data_manager`` or ``google_ads_api``; ``identifiers_per_request``
        is the Google Ads API's only); ValueError otherwise."""
        if api == "data_manager":
            return self.data_manager_client(label, policy)
        if api == "google_ads_api":
            return self.google_ads_api_client(label, policy, identifiers_per_request)
        raise ValueError(f"api must be data_manager or google_ads_api, not {api!r}")

    def test_connection(self) -> tuple[bool, str]:
        """Lists the account's user lists (no write): through the Google Ads API when the connection has a
        developer token (its password, needed by that API only), else through the Data Manager API."""
        from behavior_sync.connections import ConnectionSettingsError
        from behavior_sync.destinations.google_dm_errors import GoogleAdsError
        from behavior_sync.destinations.retry import RetryPolicy

        try:
            api = "google_ads_api" if self.settings()[2] else "data_manager"
            client = self.client_for(api, policy=RetryPolicy(attempts=1, throttle_budget_seconds=0))
            client.check_access()
        except (GoogleAdsError, ConnectionSettingsError) as exc:
            return False, str(exc)
        return True, f"the credentials can read the user lists of account {client.account_id}"


class HubSpotHook(ValidatedConnectionHook):
    """One HubSpot portal (connection type ``hubspot``).

    Password: a Service Key (HubSpot Development > Keys > Service keys), or the access token of a legacy
    private app the portal still has (no new ones since 2026-10-26); extras: ``portal_id``, ``account_tier``
    (sets the request window); Host: empty (HubSpot) or the local sandbox only. The secret is never logged.
    """

    conn_type = "hubspot"
    conn_name_attr = "hubspot_conn_id"
    default_conn_name = "hubspot_default"
    hook_name = "HubSpot (Service Key)"

    def credentials(self) -> HubSpotCredentials:
        """The connection as explicit credentials. Raises ``HubSpotError`` (no key, or a non-sandbox host)
        and ``ConnectionSettingsError`` (bad extras)."""
        from behavior_sync.destinations.hubspot_client import HubSpotCredentials

        extras, host, token = self.settings()
        return HubSpotCredentials.of_connection(self.conn_id, extras, host, token)

    def get_conn(self, label: str | None = None, policy: RetryPolicy | None = None) -> HubSpotClient:
        """A client for the connection's portal; ``label`` names the behavior and destination in errors."""
        from behavior_sync.destinations.hubspot_client import HubSpotClient

        return HubSpotClient(self.credentials(), label or f"connection {self.conn_id}", policy)

    def test_connection(self) -> tuple[bool, str]:
        """Reads the account details (the portal must be ``portal_id``) and checks every scope Behavior Sync needs
        with requests that change nothing (``hubspot_access.missing_scopes``). Only endpoints that serve a
        Service Key, a private app token and an OAuth access token alike are called."""
        from behavior_sync.connections import ConnectionSettingsError
        from behavior_sync.destinations.hubspot_access import missing_scopes
        from behavior_sync.destinations.hubspot_errors import SCOPES_HELP, HubSpotError
        from behavior_sync.destinations.retry import RetryPolicy

        try:
            credentials = self.credentials()
            client = self.get_conn(policy=RetryPolicy(attempts=1, throttle_budget_seconds=0))
            portal = str(client.account_details()[0].get("portalId"))
            if portal != credentials.portal_id:
                return False, (
                    f"the key belongs to portal {portal}, not to portal_id {credentials.portal_id}: fix "
                    "portal_id or use a Service Key of that portal"
                )
            missing = missing_scopes(client)
        except (HubSpotError, ConnectionSettingsError) as exc:
            return False, str(exc)
        if missing:
            return False, f"the key lacks scope {', '.join(missing)}: add it in {SCOPES_HELP}"
        return True, f"the key reaches portal {portal} with every scope Behavior Sync needs"


class CleverTapHook(HttpHook):
    """One CleverTap account (connection type ``clevertap``), on the HTTP provider's ``HttpHook``.

    Password: passcode; extras: ``account_id``, ``region`` (validated, never sent as headers); Host:
    empty (the region's API host), that host, or the local sandbox only (``clevertap_client.api_base_url``).
    ``get_conn`` is HttpHook's session with the CleverTap headers; the passcode is never logged.
    """

    conn_type = "clevertap"
    conn_name_attr = "clevertap_conn_id"
    default_conn_name = "clevertap_default"
    hook_name = "CleverTap"

    def __init__(self, clevertap_conn_id: str = default_conn_name) -> None:
        super().__init__(method="POST", http_conn_id=clevertap_conn_id)
        self.conn_id = clevertap_conn_id

    def account(self) -> tuple[str, str, str]:
        """(account id, passcode, API base URL). Raises ``CleverTapError`` (no passcode, bad host) and
        ``ConnectionSettingsError`` (bad extras)."""
        from behavior_sync.destinations.connection_clients import clevertap_account

        conn = self.get_connection(self.conn_id)
        extras = validated_extras(self.conn_type, self.conn_id, conn.extra_dejson)
        return clevertap_account(self.conn_id, extras, conn.host, conn.password)

    def _set_base_url(self, connection: Any) -> None:
        """The region's host when Host is empty (HttpHook would build ``http://`` from nothing)."""
        self.base_url = self.account()[2]
        self._base_url_initialized = True

    def _configure_session_from_extra(
        self, session: Session, connection: Any, extra_options: dict[str, Any]
    ) -> Session:
        """Extras are CleverTap settings (allowlisted by schema), never HTTP headers or session options."""
        return session

    def client(self, label: str | None = None, policy: RetryPolicy | None = None) -> CleverTapClient:
        """A client for the account; ``label`` names the behavior and destination in errors."""
        from behavior_sync.destinations.clevertap_client import CleverTapClient, credential_headers

        account_id, passcode, base_url = self.account()
        session = self.get_conn(headers=credential_headers(account_id, passcode))
        return CleverTapClient(session, base_url, account_id, label or f"connection {self.conn_id}", policy)

    def test_connection(self) -> tuple[bool, str]:
        """Sends an empty upload: CleverTap checks the account id, passcode and region first (nothing is written)."""
        from behavior_sync.connections import ConnectionSettingsError
        from behavior_sync.destinations.clevertap_errors import CleverTapError
        from behavior_sync.destinations.retry import RetryPolicy

        try:
            client = self.client(policy=RetryPolicy(attempts=1, throttle_budget_seconds=0, timeout_seconds=30))
            client.check_credentials()
        except (CleverTapError, ConnectionSettingsError) as exc:
            return False, str(exc)
        return True, f"CleverTap accepted the passcode of account {client.account_id}"
