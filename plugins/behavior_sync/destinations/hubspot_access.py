"""What a HubSpot credential may do, for every kind of credential: its missing scopes and the day's budget left.

Service Keys replace legacy private apps (no new private apps since 2026-10-26). HubSpot's two
private-app-only endpoints, token info (``/oauth/v2/private-apps/get/access-token-info``, a token's scopes)
and the daily usage of private apps (``/account-info/2026-03/api-usage/daily/private-apps``; usage for
Service Keys comes only in the ``2027-03`` beta), do not serve a Service Key. So:

- ``missing_scopes`` asks each scope's question with a request that changes nothing (a list that does not
  exist, an empty batch): HubSpot checks a token's scopes before it reads the body or looks anything up (as
  the sandbox does; assumed for each probed endpoint, ADR 0018), so ``403 MISSING_SCOPES`` means the scope
  is missing, and any other answer (200, 400, 404) that it is granted. The same requests work for a Service
  Key, a private app token and an OAuth access token.
- ``daily_usage`` reads the private apps' usage, and when HubSpot refuses it for this credential (or has none)
  falls back to the ``X-HubSpot-RateLimit-Daily`` / ``-Daily-Remaining`` headers of the account details;
  None when neither says (the load goes on; a 429 DAILY still stops it with what to do).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from behavior_sync.destinations.hubspot_api import DAILY_USAGE_PATH, api_path
from behavior_sync.destinations.hubspot_client import HubSpotClient
from behavior_sync.destinations.hubspot_errors import HubSpotError

log = logging.getLogger(__name__)

# The scopes a Service Key (or private app) needs for every HubSpot feature of Behavior Sync, and for each a
# request that changes nothing: (method, path, body).
SCOPE_PROBES: dict[str, tuple[str, str, Any]] = {
    "crm.lists.read": ("GET", api_path("crm/lists", "/object-type-id/0-1/name/behavior-sync-scope-check"), None),
    "crm.lists.write": ("PUT", api_path("crm/lists", "/0/memberships/add"), []),
    "crm.objects.contacts.read": ("POST", api_path("crm/objects", "/contacts/batch/read"), {"inputs": []}),
    "crm.objects.contacts.write": ("POST", api_path("crm/objects", "/contacts/batch/update"), {"inputs": []}),
    "crm.schemas.contacts.read": ("GET", api_path("crm/properties", "/contacts/email"), None),
    "crm.schemas.contacts.write": ("POST", api_path("crm/properties", "/contacts/groups"), {}),
}
REQUIRED_SCOPES = tuple(SCOPE_PROBES)
_GRANTED_REFUSALS = frozenset({400, 404})  # the probe passed the scope check and was refused after it
_NOT_FOR_THIS_CREDENTIAL = frozenset({400, 403, 404})  # how a private-app-only endpoint may refuse another kind


def missing_scopes(client: HubSpotClient) -> list[str]:
    """The scopes of ``REQUIRED_SCOPES`` the client's credential lacks (one harmless request each).

    Raises ``HubSpotError`` for any other failure (invalid key, rate limit, HubSpot unreachable).
    """
    return [scope for scope in REQUIRED_SCOPES if not _granted(client, scope)]


def _granted(client: HubSpotClient, scope: str) -> bool:
    method, path, body = SCOPE_PROBES[scope]
    try:
        client.call(f"checking scope {scope}", lambda: client.request(method, path, body))
    except HubSpotError as exc:
        if exc.category == "MISSING_SCOPES":
            return False
        if exc.status not in _GRANTED_REFUSALS:
            raise
    return True


@dataclass(frozen=True)
class DailyUsage:
    """The portal's daily request budget: limit, used so far, when it resets (text: a time or the rule)."""

    limit: int
    used: int
    resets_at: str

    @property
    def remaining(self) -> int:
        """Requests left today."""
        return max(0, self.limit - self.used)


def daily_usage(client: HubSpotClient) -> DailyUsage | None:
    """Today's requests against the portal's daily limit: from the private apps' usage, else from the
    rate-limit headers (any credential); None when HubSpot says neither. Raises ``HubSpotError`` otherwise."""
    try:
        answer = client.call("reading the daily API usage", lambda: client.request("GET", DAILY_USAGE_PATH))
    except HubSpotError as exc:
        if exc.status not in _NOT_FOR_THIS_CREDENTIAL:
            raise
        answer = None
    entry = ((answer or {}).get("results") or [None])[0]
    if entry:
        return DailyUsage(int(entry.get("usageLimit") or 0), int(entry.get("currentUsage") or 0),
                          str(entry.get("resetsAt") or ""))  # fmt: skip
    details, headers = client.account_details()
    return _from_headers(headers, str(details.get("timeZone") or "the portal's time zone"))


def _from_headers(headers: Mapping[str, str], time_zone: str) -> DailyUsage | None:
    """The budget HubSpot's ``X-HubSpot-RateLimit-Daily(-Remaining)`` headers give, if it sends them."""
    found = {key.lower(): value for key, value in headers.items()}
    limit, left = found.get("x-hubspot-ratelimit-daily"), found.get("x-hubspot-ratelimit-daily-remaining")
    if not (limit and left and limit.isdigit() and left.isdigit()):
        log.info("HubSpot reports no daily budget for this credential: the load is not checked against it")
        return None
    return DailyUsage(int(limit), int(limit) - int(left), f"midnight {time_zone}")
