"""HubSpot API errors as HubSpot sends them.

Standard body: ``{"status": "error", "message", "correlationId": <uuid>, "category", "subCategory"?,
"errors": [{"message", "in"?, "code"?, "context"?}], "context"?, "links"?}``. Rate limits (429) use
their own documented shape: ``{"status", "message", "errorType": "RATE_LIMIT", "correlationId",
"policyName"}``. Messages never quote tokens or e-mail addresses: only ids, counts and names of
properties, lists and options.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sandbox.common.http import Response

SCOPES_LINK = "https://developers.hubspot.com/scopes"
TEN_SECONDLY = "TEN_SECONDLY_ROLLING"
DAILY = "DAILY"
SECONDLY = "SECONDLY"  # the search API's per-token limit (policy name UNCONFIRMED)
_RATE_MESSAGES = {
    TEN_SECONDLY: "You have reached your ten_secondly_rolling limit.",
    DAILY: "You have reached your daily limit.",
    SECONDLY: "You have reached your secondly limit.",
}
_FAULT_MESSAGES = {
    500: ("An internal error occurred.", "INTERNAL_ERROR"),
    502: ("Bad Gateway: the request could not be completed. Retry later.", "BAD_GATEWAY"),
    503: ("Service Unavailable: the request could not be completed. Retry later.", "SERVICE_UNAVAILABLE"),
    504: ("Gateway Timeout: the request could not be completed. Retry later.", "GATEWAY_TIMEOUT"),
}


def error_detail(message: str, *, in_: str | None = None, code: str | None = None, **context: Any) -> dict[str, Any]:
    """One entry of ``errors[]``: message, and ``in``/``code``/``context`` when given."""
    detail: dict[str, Any] = {"message": message}
    if in_ is not None:
        detail["in"] = in_
    if code is not None:
        detail["code"] = code
    if context:
        detail["context"] = {key: list(value) for key, value in context.items()}
    return detail


class HubSpotError(Exception):
    """An error answer; ``response`` renders HubSpot's JSON body with the given headers."""

    def __init__(
        self,
        status: int,
        message: str,
        category: str,
        *,
        sub_category: str | None = None,
        errors: Sequence[Mapping[str, Any]] = (),
        context: Mapping[str, Sequence[str]] | None = None,
        links: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {category}: {message}")
        self.status = status
        self.message = message
        self.category = category
        self.sub_category = sub_category
        self.errors = [dict(e) for e in errors]
        self.context = context
        self.links = links

    def body(self) -> dict[str, Any]:
        """The JSON body (a fresh correlationId each time)."""
        body: dict[str, Any] = {
            "status": "error",
            "message": self.message,
            "correlationId": str(uuid.uuid4()),
            "category": self.category,
        }
        if self.sub_category is not None:
            body["subCategory"] = self.sub_category
        body["errors"] = self.errors
        if self.context is not None:
            body["context"] = {key: list(value) for key, value in self.context.items()}
        if self.links is not None:
            body["links"] = dict(self.links)
        return body

    def response(self, headers: Mapping[str, str] | None = None) -> Response:
        """The HTTP response carrying this error."""
        return Response.json(self.status, self.body(), headers)


class RateLimited(HubSpotError):
    """HTTP 429 with the rate-limit body; ``policy`` is TEN_SECONDLY_ROLLING, DAILY or SECONDLY."""

    def __init__(self, policy: str, message: str | None = None) -> None:
        super().__init__(429, message or _RATE_MESSAGES.get(policy, "You have reached your limit."), "RATE_LIMITS")
        self.policy = policy

    def body(self) -> dict[str, Any]:
        """``{"status", "message", "errorType": "RATE_LIMIT", "correlationId", "policyName"}``."""
        return {
            "status": "error",
            "message": self.message,
            "errorType": "RATE_LIMIT",
            "correlationId": str(uuid.uuid4()),
            "policyName": self.policy,
        }


def missing_credentials() -> HubSpotError:
    """No ``Authorization: Bearer`` header."""
    return HubSpotError(
        401,
        "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more "
        "details at https://developers.hubspot.com/docs/methods/auth/oauth-overview",
        "INVALID_AUTHENTICATION",
    )


def invalid_token() -> HubSpotError:
    """A bearer token the sandbox does not know (revoked, rotated or mistyped)."""
    return HubSpotError(
        401,
        "The access token provided is not valid: it may have been revoked or rotated. Check the private app's token.",
        "INVALID_AUTHENTICATION",
    )


def missing_scopes(required: Sequence[str]) -> HubSpotError:
    """403: the token lacks every scope that would allow the call; ``required`` lists those scopes."""
    return HubSpotError(
        403,
        "This app hasn't been granted all required scopes to make this call. Read more about required scopes "
        f"here: {SCOPES_LINK}.",
        "MISSING_SCOPES",
        errors=[error_detail("One or more of the following scopes are required.", requiredScopes=sorted(required))],
        links={"scopes": SCOPES_LINK},
    )


def validation(
    message: str, *, errors: Sequence[Mapping[str, Any]] = (), sub_category: str | None = None
) -> HubSpotError:
    """400 VALIDATION_ERROR."""
    return HubSpotError(400, message, "VALIDATION_ERROR", errors=errors, sub_category=sub_category)


def invalid_field(field: str, message: str) -> HubSpotError:
    """400 VALIDATION_ERROR naming the offending field in ``errors[].in``."""
    return validation(f"Invalid input: {message}", errors=[error_detail(message, in_=field)])


def not_found(message: str, sub_category: str | None = None) -> HubSpotError:
    """404 OBJECT_NOT_FOUND."""
    return HubSpotError(404, message, "OBJECT_NOT_FOUND", sub_category=sub_category)


def already_exists(
    message: str, category: str = "OBJECT_ALREADY_EXISTS", sub_category: str | None = None
) -> HubSpotError:
    """409 with ``category`` (OBJECT_ALREADY_EXISTS, or CONFLICT for contacts)."""
    return HubSpotError(409, message, category, sub_category=sub_category)


def unknown_route(method: str, path: str, path_exists: bool) -> HubSpotError:
    """404 for a path the sandbox does not serve, 405 when only the method is wrong."""
    if path_exists:
        return HubSpotError(405, f"Method {method} is not supported on this path.", "METHOD_NOT_ALLOWED")
    return not_found(f"(sandbox) no such endpoint: {method} {path[:120]}")


def unserved_version(version: str, path: str) -> HubSpotError:
    """404 for an API version the sandbox is told not to serve (``api_versions``), as for a path HubSpot lacks."""
    return not_found(f"(sandbox) API version {version[:20]} is not served here (api_versions): {path[:120]}")


def private_apps_only(what: str) -> HubSpotError:
    """A private-app-only endpoint called with a Service Key (HubSpot's exact answer is UNCONFIRMED)."""
    return HubSpotError(403, f"{what} is available to legacy private apps only, not to service keys.", "FORBIDDEN")


def from_fault(status: int, spec: Mapping[str, Any]) -> HubSpotError:
    """A scripted or random fault: 429 with a rate-limit body (``policy_name``), else a standard body."""
    if status == 429:
        return RateLimited(str(spec.get("policy_name", TEN_SECONDLY)), spec.get("message"))
    default_message, default_category = _FAULT_MESSAGES.get(status, ("The request failed.", "VALIDATION_ERROR"))
    return HubSpotError(
        status,
        str(spec.get("message", default_message)),
        str(spec.get("category", default_category)),
        sub_category=spec.get("sub_category"),
    )
