"""HubSpot API errors as a table: (HTTP status, category or rate-limit policy) -> action and advice.

Design invariant 8: no string matching on messages. ``Failure.of_body`` reads only HubSpot's
structured fields (``category``, ``policyName``, ``errors[].context.requiredScopes``) and the
``Retry-After`` header; HubSpot's own message is never shown, since it may quote an e-mail address.
Sources: reference §3.3 (error bodies, 429 policies, scopes).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from behavior_sync.destinations.retry import Action, ErrorRule

ANY = None
SCOPES_HELP = "HubSpot Settings > Integrations > Private Apps > your app > Scopes"

_TOKEN = (
    "the private app token is invalid, rotated or revoked: copy the app's current access token into the "
    "connection's Password field"
)
_THROTTLED = "HubSpot is rate-limiting this portal; the client waits for the window and resumes"
ERROR_TABLE: dict[tuple[int | None, str | None], ErrorRule] = {
    (401, ANY): ErrorRule(Action.FAIL, _TOKEN),
    (403, "MISSING_SCOPES"): ErrorRule(Action.FAIL, f"the private app lacks a scope: add it in {SCOPES_HELP}"),
    (403, ANY): ErrorRule(Action.FAIL, "HubSpot refused access: check the private app's scopes and the portal"),
    (404, ANY): ErrorRule(Action.FAIL, "HubSpot does not know the object (deleted, or of another portal)"),
    (409, ANY): ErrorRule(Action.FAIL, "HubSpot reports a conflict (the name or object exists already)"),
    (429, "TEN_SECONDLY_ROLLING"): ErrorRule(Action.THROTTLE, _THROTTLED),
    (429, "SECONDLY"): ErrorRule(Action.THROTTLE, _THROTTLED),
    (429, "DAILY"): ErrorRule(
        Action.FAIL,
        "the portal's daily API budget is used up (shared by every private app of the portal): the sync "
        "resumes after HubSpot's reset at midnight in the portal's time zone; lower other apps' usage or "
        "buy HubSpot's API limit increase",
    ),
    (429, ANY): ErrorRule(Action.THROTTLE, _THROTTLED),
    (400, ANY): ErrorRule(
        Action.FAIL,
        "HubSpot refused the request as invalid: check the destination's settings in the behavior file; "
        "if they are right this is a Behavior Sync bug, report it with the task log",
    ),
    (413, ANY): ErrorRule(Action.FAIL, "HubSpot refused the request as too large: report it with the task log"),
    (414, ANY): ErrorRule(Action.FAIL, "HubSpot refused the request URL as too long: report it with the task log"),
}
SERVER_ERROR = ErrorRule(Action.RETRY, "HubSpot answered with a server error: the task retries later")
UNREACHABLE = ErrorRule(Action.RETRY, "HubSpot could not be reached (network error or timeout): the task retries later")
_UNKNOWN = ErrorRule(Action.FAIL, "HubSpot refused the request: see the status in HubSpot's error reference")


@dataclass(frozen=True)
class Failure:
    """What a failed call told us: status, category (or rate-limit policy), scopes to add, seconds to wait."""

    status: int | None
    category: str | None
    required_scopes: tuple[str, ...] = ()
    retry_after: float = 0.0
    code: str | None = None  # the first detail's code (e.g. INVALID_EMAIL), when HubSpot gives one

    @classmethod
    def of_body(cls, status: int | None, body: Any, headers: Mapping[str, str] | None) -> Failure:
        """From an error answer (body as bytes, str or None); unparseable bodies give a bare status."""
        data = _json(body)
        category = data.get("policyName") if status == 429 else data.get("category")
        details = [e for e in data.get("errors") or () if isinstance(e, dict)]
        scopes = tuple(str(s) for e in details for s in (e.get("context") or {}).get("requiredScopes") or ())
        code = next((str(e["code"]) for e in details if e.get("code")), None)
        return cls(status, None if category is None else str(category), scopes, _retry_after(headers), code)

    def rule(self) -> ErrorRule:
        """The table's rule: (status, category) first, then (status, any); unknown 5xx retry, else fail."""
        for key in ((self.status, self.category), (self.status, ANY)):
            found = ERROR_TABLE.get(key)
            if found is not None:
                return found
        return SERVER_ERROR if self.status is not None and self.status >= 500 else _UNKNOWN

    def describe(self, what: str) -> str:
        """``<what>: HubSpot error (HTTP 403, MISSING_SCOPES): <advice>`` plus the scopes to add (no values)."""
        parts = [f"HTTP {self.status}" if self.status is not None else "no answer"]
        if self.category:
            parts.append(self.category)
        text = f"{what}: HubSpot error ({', '.join(parts)}): {self.rule().advice}"
        if self.required_scopes:
            text += f" (one of: {', '.join(sorted(self.required_scopes))})"
        return text


def _json(body: Any) -> dict[str, Any]:
    try:
        data = json.loads(body) if body else {}
    except (ValueError, TypeError):
        return {}
    return data if isinstance(data, dict) else {}


def _retry_after(headers: Mapping[str, str] | None) -> float:
    """Seconds of a ``Retry-After`` header (0 when absent or not a number of seconds)."""
    try:
        return max(0.0, float((headers or {}).get("Retry-After") or 0))
    except ValueError:
        return 0.0


class HubSpotError(Exception):
    """A HubSpot failure a person must act on (or that outlasted the retries); the text is safe to show.

    Never carries tokens or e-mail addresses. ``status``/``category`` are HubSpot's (None for transport errors).
    """

    def __init__(
        self, message: str, status: int | None = None, category: str | None = None, code: str | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.category = category
        self.code = code


class HubSpotNotFound(HubSpotError):
    """The object (e.g. a remembered list) is unknown to the portal: deleted, or of another portal (404)."""
