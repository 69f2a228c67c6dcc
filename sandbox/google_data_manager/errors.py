"""Google API errors as the Data Manager API sends them over REST.

Shape (Google's standard error model, https://developers.google.com/data-manager/api/devguides/concepts/understand-errors)::

    {"error": {"code": 400, "message": "...", "status": "INVALID_ARGUMENT",
               "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "INVALID_HEX_ENCODING",
                            "domain": "datamanager.googleapis.com", "metadata": {...}},
                           {"@type": "type.googleapis.com/google.rpc.BadRequest", "fieldViolations": [...]}]}}

``google.api_core`` picks the exception class from the HTTP status (400 ``InvalidArgument``, 401
``Unauthenticated``, 403 ``PermissionDenied``, 404 ``NotFound``, 409 ``Conflict``, 429
``ResourceExhausted``, 5xx) and exposes ``reason`` from the ErrorInfo detail. Messages and field
violations never quote request values (hashes, tokens): only field paths, counts and limits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sandbox.common.http import Response

DOMAIN = "datamanager.googleapis.com"  # UNCONFIRMED: the ErrorInfo domain string
STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ALREADY_EXISTS",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
_FAULT_REASONS = {429: "RESOURCE_EXHAUSTED", 500: "INTERNAL_ERROR", 504: "DEADLINE_EXCEEDED"}


@dataclass(frozen=True)
class FieldViolation:
    """One ``BadRequest.fieldViolations`` entry: a field path, why, and the ErrorReason name."""

    field: str
    description: str
    reason: str

    def to_json(self) -> dict[str, str]:
        """The camelCase JSON form."""
        return {"field": self.field, "description": self.description, "reason": self.reason}


class GoogleApiError(Exception):
    """A whole-request refusal; ``response`` renders Google's JSON error body."""

    def __init__(
        self,
        code: int,
        message: str,
        reason: str,
        violations: Sequence[FieldViolation] = (),
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(f"{code} {reason}")
        self.code = code
        self.message = message
        self.reason = reason
        self.violations = tuple(violations)
        self.metadata = dict(metadata or {})

    @property
    def status(self) -> str:
        """The canonical status name (``INVALID_ARGUMENT``...)."""
        return STATUS_NAMES.get(self.code, "UNKNOWN")

    def body(self) -> dict[str, Any]:
        """``{"error": {"code", "message", "status", "details"}}``."""
        details: list[dict[str, Any]] = [
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": self.reason,
                "domain": DOMAIN,
                "metadata": self.metadata,
            }
        ]
        if self.violations:
            details.append(
                {
                    "@type": "type.googleapis.com/google.rpc.BadRequest",
                    "fieldViolations": [v.to_json() for v in self.violations],
                }
            )
        return {"error": {"code": self.code, "message": self.message, "status": self.status, "details": details}}

    def response(self) -> Response:
        """The HTTP answer."""
        return Response.json(self.code, self.body())


def invalid_argument(reason: str, message: str, violations: Sequence[FieldViolation] = ()) -> GoogleApiError:
    """400 INVALID_ARGUMENT with an ErrorReason name (``REQUIRED_FIELD_MISSING``, ``INVALID_HEX_ENCODING``...)."""
    return GoogleApiError(400, message, reason, violations)


def field_error(field: str, reason: str, description: str) -> GoogleApiError:
    """400 INVALID_ARGUMENT about one field."""
    return invalid_argument(reason, f"{description} ({field})", [FieldViolation(field, description, reason)])


def permission_denied(message: str) -> GoogleApiError:
    """403 PERMISSION_DENIED: the caller has no access to the account (or it does not exist)."""
    return GoogleApiError(403, message, "PERMISSION_DENIED")


def unauthenticated(message: str) -> GoogleApiError:
    """401 UNAUTHENTICATED: a bearer token the sandbox does not know."""
    return GoogleApiError(401, message, "UNAUTHENTICATED")


def not_found(message: str) -> GoogleApiError:
    """404 NOT_FOUND (unknown path or resource)."""
    return GoogleApiError(404, message, "NOT_FOUND")


def already_exists(message: str) -> GoogleApiError:
    """409 ALREADY_EXISTS (UNCONFIRMED status for a duplicate user list name)."""
    return GoogleApiError(409, message, "ALREADY_EXISTS")


def quota_exceeded(quota_limit: str, limit: int, window: str) -> GoogleApiError:
    """429 RESOURCE_EXHAUSTED naming the quota in ErrorInfo ``metadata.quota_limit`` (documented)."""
    message = f"Quota exceeded for quota metric '{quota_limit}': limit {limit} requests per {window}"
    return GoogleApiError(429, message, "RESOURCE_EXHAUSTED", metadata={"quota_limit": quota_limit})


def from_fault(status: int, spec: Mapping[str, Any]) -> GoogleApiError:
    """An injected fault: the spec's ``message`` or the canonical status name."""
    name = STATUS_NAMES.get(status, "INTERNAL")
    message = str(spec.get("message") or f"The service is currently unavailable ({name}, sandbox fault).")
    return GoogleApiError(status, message, str(spec.get("reason") or _FAULT_REASONS.get(status, name)))
