"""HubSpot's date-based API version, pinned in one constant, and hubspot-api-client's generated APIs moved onto it.

HubSpot versions its REST APIs by date (developers.hubspot.com/docs/api-reference/2026-03/overview): the
version follows the API's name, ``/crm/lists/2026-03/{listId}`` for the legacy ``/crm/v3/lists/{listId}``,
``/crm/objects/2026-03/contacts/batch/read``, ``/crm/properties/2026-03/contacts``,
``/account-info/2026-03/details``, ``/marketing/emails/2026-03/statistics/histogram``. The legacy v1-v3 paths
become unsupported in September 2027. ``2026-03`` is the version whose reference documents every endpoint
Behavior Sync calls as generally available; a version is supported for 18 months after its release (so
``2026-03`` until about 2027-09-30). To move, change ``HUBSPOT_API_VERSION`` (ADR 0018).

hubspot-api-client 12.0.0 was generated for the legacy paths. The dated endpoints take the same requests and
answer the same bodies, so the project keeps the SDK's generated APIs and models and moves only their paths:
``DatedApis`` is the ``api_factory`` of ``hubspot.Client.create``. Each API it builds sends its legacy path
as the dated one (``dated_path``), and a versioned path it cannot map is refused (``ValueError``) rather than
sent on an old version. It builds each API once per client: the SDK's own factory makes a new API client and
connection pool at every attribute access.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from hubspot.discovery.discovery_base import DiscoveryBase

HUBSPOT_API_VERSION = "2026-03"
# The SDK's legacy path prefix of each API Behavior Sync calls -> the API's name in dated paths.
_DATED_APIS = (
    ("/crm/v3/objects", "crm/objects"),
    ("/crm/v3/lists", "crm/lists"),
    ("/crm/v3/properties", "crm/properties"),
    ("/marketing/v3/emails", "marketing/emails"),
)
_NUMBERED = re.compile(r"/v\d+(/|$)")


def api_path(api: str, resource: str = "") -> str:
    """The pinned-version path of ``resource`` (``/details``) in HubSpot API ``api`` (``account-info``)."""
    return f"/{api}/{HUBSPOT_API_VERSION}{resource}"


ACCOUNT_DETAILS_PATH = api_path("account-info", "/details")
DAILY_USAGE_PATH = api_path("account-info", "/api-usage/daily/private-apps")  # legacy private apps only


def dated_path(path: str) -> str:
    """``path`` on the pinned version: a legacy SDK path is rewritten; a dated one is kept. Raises ValueError
    for any other numbered-version path (an SDK API this module does not map)."""
    for legacy, api in _DATED_APIS:
        if path == legacy or path.startswith(legacy + "/"):
            return api_path(api, path[len(legacy) :])
    if _NUMBERED.search(path):
        raise ValueError(f"no date-based version is mapped for the HubSpot path {path}")
    return path


def _call_dated(call_api: Callable[..., Any], resource_path: str, *args: Any, **kwargs: Any) -> Any:
    return call_api(dated_path(resource_path), *args, **kwargs)


class DatedApis:
    """An ``api_factory`` for ``hubspot.Client.create``: one API object per (package, API), on the pinned
    version. Not thread-safe (one per ``HubSpotClient``)."""

    def __init__(self) -> None:
        self._apis: dict[tuple[str, str], Any] = {}

    def __call__(self, package: Any, api_name: str, config: Mapping[str, Any]) -> Any:
        """The generated API ``api_name`` of ``package`` (e.g. ``hubspot.crm.lists``, ``ListsApi``)."""
        key = (package.__name__, api_name)
        if key not in self._apis:
            api = DiscoveryBase._default_api_factory(package, api_name, dict(config))
            api.api_client.call_api = partial(_call_dated, api.api_client.call_api)
            self._apis[key] = api
        return self._apis[key]
