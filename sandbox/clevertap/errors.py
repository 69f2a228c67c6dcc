"""CleverTap API errors (whole-request refusals) as CleverTap sends them.

Shape, from a recorded 401 of ``POST /1/upload`` (tradeo/clevertap-ruby VCR cassette):
``{"status": "fail", "error": "<message>", "code": <HTTP status>}``. The sandbox uses the same
shape for every refusal (400, 401, 404, 405, 429, 5xx). Messages never quote request values
(passcodes, identities, e-mails): only counts, limits and field names.

Per-record failures inside an HTTP 200 answer are not errors here: see ``records``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sandbox.common.http import Response

TOO_MANY_CONCURRENT = "Too many concurrent requests"
_FAULT_MESSAGES = {
    429: TOO_MANY_CONCURRENT,
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class CleverTapError(Exception):
    """A whole-request refusal; ``response`` renders CleverTap's JSON body. ``reason`` names it in stats."""

    def __init__(self, status: int, message: str, reason: str) -> None:
        super().__init__(f"{status} {reason}")
        self.status = status
        self.message = message
        self.reason = reason

    def body(self) -> dict[str, Any]:
        """``{"status": "fail", "error": message, "code": status}``."""
        return {"status": "fail", "error": self.message, "code": self.status}

    def response(self) -> Response:
        """The HTTP answer (no ``Retry-After``: CleverTap sends none, not even on 429)."""
        return Response.json(self.status, self.body())


def invalid_account() -> CleverTapError:
    """Missing or unknown ``X-CleverTap-Account-Id``, or an account of another region (recorded message)."""
    return CleverTapError(401, "Account ID is not valid", "invalid_account")


def invalid_passcode() -> CleverTapError:
    """Missing or wrong ``X-CleverTap-Passcode`` for a known account (message UNCONFIRMED)."""
    return CleverTapError(401, "Passcode is not valid", "invalid_passcode")


def bad_request(message: str) -> CleverTapError:
    """A malformed body or a request over a per-request cap (400 "Invalid parameter passed")."""
    return CleverTapError(400, message, "bad_request")


def unknown_route(path_exists: bool) -> CleverTapError:
    """404 for an unknown path, 405 for a known path with another method."""
    if path_exists:
        return CleverTapError(405, "Method not allowed", "method_not_allowed")
    return CleverTapError(404, "Not found", "not_found")


def too_many_concurrent() -> CleverTapError:
    """429 when the account already has its limit of requests of this kind in flight."""
    return CleverTapError(429, TOO_MANY_CONCURRENT, "too_many_concurrent")


def from_fault(status: int, spec: Mapping[str, Any]) -> CleverTapError:
    """An injected fault: the spec's ``message`` or the usual text for the status."""
    message = str(spec.get("message") or _FAULT_MESSAGES.get(status, "Internal Server Error"))
    return CleverTapError(status, message, "injected_fault")
