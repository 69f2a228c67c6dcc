"""Graph API errors as Meta sends them: HTTP 400 (or 5xx) with ``{"error": {...}}``.

Messages never quote request values (tokens, identifiers): only ids, counts, key names.
``error_data`` is never sent (the SDK ``json.loads`` it when it is a string).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from sandbox.common.http import Response

OAUTH = "OAuthException"
GRAPH_METHOD = "GraphMethodException"
THROTTLE_CODES = frozenset({4, 17, 613, *range(80000, 80015)})

# code -> (message, type, error_subcode, is_transient): defaults for scripted and random faults
_KNOWN: dict[int, tuple[str, str, int | None, bool]] = {
    1: ("An unknown error occurred", OAUTH, None, True),
    2: ("An unexpected error has occurred. Please retry your request later.", OAUTH, None, True),
    4: ("(#4) Application request limit reached", OAUTH, 1504022, True),
    17: ("(#17) User request limit reached", OAUTH, 2446079, True),
    100: ("(#100) Invalid parameter", OAUTH, None, False),
    190: ("Invalid OAuth access token - Cannot parse access token", OAUTH, None, False),
    200: ("(#200) Permissions error", OAUTH, None, False),
    294: (
        "(#294) Managing advertisements requires the extended permission ads_management and an application "
        "that is whitelisted to access the Ads API",
        OAUTH,
        None,
        False,
    ),
    613: ("(#613) Calls to this api have exceeded the rate limit.", OAUTH, 1487742, True),
    2650: ("(#2650) Failed to update the custom audience", OAUTH, None, False),
    80003: (
        "(#80003) There have been too many calls to this ad-account. Wait a bit and try again. For more info, "
        "please refer to https://developers.facebook.com/docs/graph-api/overview/rate-limiting#custom-audience.",
        OAUTH,
        2446079,
        True,
    ),
}


class GraphError(Exception):
    """A Graph API error; ``response`` renders Meta's JSON body."""

    def __init__(
        self,
        code: int,
        message: str | None = None,
        *,
        type_: str | None = None,
        subcode: int | None = None,
        status: int = 400,
        is_transient: bool | None = None,
        user_title: str | None = None,
        user_msg: str | None = None,
    ) -> None:
        default_message, default_type, default_subcode, default_transient = _KNOWN.get(
            code, (f"(#{code}) Error", OAUTH, None, False)
        )
        self.code = code
        self.message = message or default_message
        self.type = type_ or default_type
        self.subcode = default_subcode if subcode is None else subcode
        self.status = status
        self.is_transient = default_transient if is_transient is None else is_transient
        self.user_title = user_title
        self.user_msg = user_msg
        super().__init__(f"({code}) {self.message}")

    def body(self) -> dict[str, Any]:
        """The JSON body: ``{"error": {message, type, code, error_subcode?, fbtrace_id, ...}}``."""
        error: dict[str, Any] = {"message": self.message, "type": self.type, "code": self.code}
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        error["is_transient"] = self.is_transient
        if self.user_title is not None:
            error["error_user_title"] = self.user_title
        if self.user_msg is not None:
            error["error_user_msg"] = self.user_msg
        error["fbtrace_id"] = "A" + secrets.token_urlsafe(16)
        return {"error": error}

    def response(self, headers: Mapping[str, str] | None = None) -> Response:
        """The HTTP response carrying this error (and ``headers``, e.g. the usage header)."""
        return Response.json(self.status, self.body(), headers)


def from_fault_spec(spec: Mapping[str, Any], status: int) -> GraphError:
    """A scripted or random fault as a GraphError: ``code`` defaults to 1 (500) or 2 (503, 400)."""
    code = int(spec.get("code", 1 if status == 500 else 2))
    subcode = spec.get("error_subcode")
    transient = spec.get("is_transient")
    return GraphError(
        code,
        spec.get("message"),
        type_=spec.get("type"),
        subcode=None if subcode is None else int(subcode),
        status=status,
        is_transient=None if transient is None else bool(transient),
        user_title=spec.get("error_user_title"),
        user_msg=spec.get("error_user_msg"),
    )


def missing_token() -> GraphError:
    """No access_token in the query string (real Graph answers code 104)."""
    return GraphError(104, "An access token is required to request this resource.")


def invalid_token() -> GraphError:
    """An access token the sandbox does not know."""
    return GraphError(190)


def appsecret_proof_error(missing: bool) -> GraphError:
    """The token's app requires appsecret_proof and it is missing or wrong."""
    if missing:
        return GraphError(100, "API calls from the server require an appsecret_proof argument", type_=GRAPH_METHOD)
    return GraphError(100, "Invalid appsecret_proof provided in the API argument", type_=GRAPH_METHOD)


def no_account_access(account_id: str) -> GraphError:
    """The token cannot use this ad account."""
    return GraphError(200, f"(#200) Permissions error: this access token has no access to ad account act_{account_id}")


def needs_ads_management() -> GraphError:
    """A write with a token lacking ads_management."""
    return GraphError(294)


def unsupported_request(method: str, object_id: str) -> GraphError:
    """Code 100, subcode 33: the object is missing, hidden from this token, or has no such edge."""
    return GraphError(
        100,
        f"Unsupported {method.lower()} request. Object with ID '{object_id}' does not exist, cannot be loaded due "
        "to missing permissions, or does not support this operation. Please read the Graph API documentation at "
        "https://developers.facebook.com/docs/graph-api",
        type_=GRAPH_METHOD,
        subcode=33,
    )


def unknown_path(path: str) -> GraphError:
    """A path the Graph API (or this sandbox) does not route."""
    return GraphError(2500, f"Unknown path components: {path[:80]}")


def invalid_parameter(detail: str) -> GraphError:
    """Code 100 with a message saying which parameter is wrong (never its value)."""
    return GraphError(100, f"(#100) {detail}")


def upload_blocked() -> GraphError:
    """A write to a flagged audience (operation_status 471)."""
    return GraphError(
        100,
        "(#100) This custom audience was flagged and its users can no longer be updated.",
        subcode=1713230,
        user_title="Audience Upload Blocked",
        user_msg="This audience may contain information that is not allowed. Uploads to it are blocked.",
    )


def buc_throttled() -> GraphError:
    """The ad account's custom_audience hourly budget is used up (code 80003)."""
    return GraphError(80003)
