"""Connection types of the four destinations.

Each hook reads one destination account's connection and validates its extras
(``include/schemas/connections/<type>.json``). The API clients built on these
settings belong to each destination's own module and arrive with it.
"""

from __future__ import annotations

from behavior_sync_airflow.hooks.base import ValidatedConnectionHook


class MetaAdsHook(ValidatedConnectionHook):
    """One Meta ad account (connection type ``meta_ads``; access token in the Password field)."""

    conn_type = "meta_ads"
    conn_name_attr = "meta_conn_id"
    default_conn_name = "meta_default"
    hook_name = "Meta Ads (Custom Audiences)"


class GoogleAdsHook(ValidatedConnectionHook):
    """One Google Ads customer (connection type ``google_ads``; developer token in the Password field)."""

    conn_type = "google_ads"
    conn_name_attr = "google_ads_conn_id"
    default_conn_name = "google_ads_default"
    hook_name = "Google Ads (Customer Match)"


class HubSpotHook(ValidatedConnectionHook):
    """One HubSpot portal (connection type ``hubspot``; private app token in the Password field)."""

    conn_type = "hubspot"
    conn_name_attr = "hubspot_conn_id"
    default_conn_name = "hubspot_default"
    hook_name = "HubSpot (private app)"


class CleverTapHook(ValidatedConnectionHook):
    """One CleverTap account (connection type ``clevertap``; passcode in the Password field)."""

    conn_type = "clevertap"
    conn_name_attr = "clevertap_conn_id"
    default_conn_name = "clevertap_default"
    hook_name = "CleverTap"
