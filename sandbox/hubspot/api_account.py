"""Account info endpoints: the portal's details, its daily API usage (private apps), a token's scopes.

The usage and token-info endpoints are private-app specific (HubSpot's 2026-03 reference: "daily API usage
and limits for legacy private apps"; token info: ``/oauth/v2/private-apps/...``). Service keys are not
private apps: the usage endpoint refuses a service key's call (403), and token info does not know a
service key (404), so clients must get by without them (HubSpot's exact answers are UNCONFIRMED).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sandbox.hubspot.calls import Call, Reply
from sandbox.hubspot.errors import invalid_field, not_found, private_apps_only
from sandbox.hubspot.properties import iso


def account_details(call: Call) -> Reply:
    """GET /account-info/v3/details: portal id, account type, time zone, currency, UTC offset, UI domain."""
    portal = call.portal
    offset = datetime.fromtimestamp(call.now, ZoneInfo(portal.time_zone)).utcoffset()
    offset_seconds = int(offset.total_seconds()) if offset is not None else 0
    sign = "-" if offset_seconds < 0 else "+"
    hours, minutes = divmod(abs(offset_seconds) // 60, 60)
    return Reply(
        200,
        {
            "portalId": portal.portal_id,
            "accountType": portal.account_type,
            "timeZone": portal.time_zone,
            "companyCurrency": portal.company_currency,
            "additionalCurrencies": [],
            "utcOffset": f"{sign}{hours:02d}:{minutes:02d}",
            "utcOffsetMilliseconds": offset_seconds * 1000,
            "uiDomain": portal.ui_domain,
            "dataHostingLocation": portal.data_hosting_location,
        },
    )


def daily_usage(call: Call) -> Reply:
    """GET /account-info/v3/api-usage/daily/private-apps: today's calls against the daily limit (private apps;
    a service key's call is refused with 403)."""
    if call.grant.kind != "private_app":
        raise private_apps_only("The daily API usage of private apps")
    _, used_today, resets_at = call.limiter.usage(call.portal)
    entry = {
        "name": "private-apps-api-calls-daily",
        "usageLimit": call.portal.day_limit,
        "currentUsage": used_today,
        "collectedAt": iso(call.now),
        "fetchStatus": "SUCCESS",
        "resetsAt": iso(resets_at),
    }
    return Reply(200, {"results": [entry]})


def token_info(call: Call) -> Reply:
    """POST /oauth/v2/private-apps/get/access-token-info ``{tokenKey}``: the token's portal and scopes.

    Answers for private-app tokens of the caller's portal only (404 otherwise, service keys included); the token
    itself is never echoed.
    """
    body = call.body()
    key = body.get("tokenKey") if isinstance(body, dict) else None
    if not isinstance(key, str) or not key:
        raise invalid_field("tokenKey", "tokenKey must be a non-empty string")
    grant = call.config.tokens.get(key)
    if grant is None or grant.kind != "private_app" or grant.portal_id != call.portal.portal_id:
        raise not_found("The access token is unknown")
    return Reply(200, {"hubId": grant.portal_id, "appId": 1, "userId": 1, "scopes": sorted(grant.scopes)})
