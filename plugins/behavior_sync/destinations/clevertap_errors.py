"""CleverTap errors as tables: HTTP status -> what the client does, per-record code -> what it means.

Design invariant 8: no string matching. CleverTap answers a whole request with an HTTP status (401
bad credentials or wrong region, 400 bad request, 429 too many concurrent requests, 5xx) and reports
refused records inside an HTTP 200 answer, each with a numeric code. Sources: reference §4
(https://developer.clevertap.com/docs/api-errors, the upload profiles / events pages, the recorded
answers listed in sandbox/clevertap/README.md). Messages never quote passcodes or identifiers.
"""

from __future__ import annotations

from types import MappingProxyType

from behavior_sync.destinations.retry import Action, ErrorRule

_CREDENTIALS = (
    "CleverTap refused the credentials (HTTP 401): check the connection's account id and passcode "
    "(Password field) and its region (or Host): a request to another region's host is refused too"
)
HTTP_TABLE = MappingProxyType(
    {
        400: ErrorRule(
            Action.FAIL, "CleverTap refused the request as malformed (HTTP 400): report it with the task log"
        ),
        401: ErrorRule(Action.FAIL, _CREDENTIALS),
        403: ErrorRule(Action.FAIL, "CleverTap forbids this call for the passcode (HTTP 403): use an account passcode"),
        404: ErrorRule(Action.FAIL, "CleverTap has no such endpoint (HTTP 404): check the connection's Host"),
        429: ErrorRule(
            Action.THROTTLE,
            "more than 15 uploads were in flight for this CleverTap account (HTTP 429): the client backs off "
            "and retries; if it persists, lower the slots of the account's Airflow pool",
        ),
    }
)
_SERVER_ERROR = ErrorRule(Action.RETRY, "CleverTap answered with a server error: the client retries, then the task")
_UNKNOWN = ErrorRule(Action.FAIL, "CleverTap refused the request: see the HTTP status in CleverTap's API errors page")
UNREACHABLE = ErrorRule(Action.RETRY, "CleverTap could not be reached (network error): the client retries")

RECORD_CODES = MappingProxyType(
    {
        509: "event name missing",
        512: "invalid record structure",
        513: "restricted system event name",
        514: "Gender is not M/F",
        515: "Email is not a valid e-mail address",
        516: "Phone is not +<country code><number>",
        521: "a key or value is too long",
        522: "too many properties (event properties, or the account's 256 custom profile keys)",
        523: "identity missing or longer than 120 characters",
        524: "record type is neither profile nor event",
        525: "timestamp is not epoch seconds",
        526: "objectId is invalid",
        528: "event discarded by CleverTap",
        555: "CleverTap server error for this record",
    }
)


def classify(status: int) -> ErrorRule:
    """The rule for a whole-request HTTP error: the table first; unknown 5xx retry, anything else fails."""
    rule = HTTP_TABLE.get(status)
    if rule is not None:
        return rule
    return _SERVER_ERROR if status >= 500 else _UNKNOWN


def record_message(code: int, kind: str) -> str:
    """A row rejection's message for CleverTap's per-record ``code`` on a ``kind`` (profile/event) record."""
    return f"CleverTap refused the {kind} record (code {code}: {RECORD_CODES.get(code, 'see CleverTap API errors')})"


class CleverTapError(Exception):
    """A CleverTap failure of a whole request a person must act on, or that outlasted the retries; the text
    is safe to show (no passcode, no identifier). ``status``: the HTTP status (None: transport error)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class CleverTapDeliveryUnknown(CleverTapError):
    """The request was sent but no answer came back (timeout, connection lost): CleverTap may have applied it.

    A non-idempotent request (events) is then never re-sent by the client.
    """
