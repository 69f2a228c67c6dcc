"""Data Manager API errors as a table: (HTTP status, ErrorInfo reason) -> action and what the user should do.

Over REST ``google.api_core`` raises a ``GoogleAPICallError`` subclass chosen by the HTTP status
(400 BadRequest, 401 Unauthorized, 403 Forbidden, 429 TooManyRequests, 5xx ...) with ``reason`` the
Data Manager ``ErrorReason`` name (https://developers.google.com/data-manager/api/reference/rest/v1/ErrorReason).
``classify`` looks up (status, reason), then (status, any); unknown 5xx retry, anything else fails.
Quota errors (429 RESOURCE_EXHAUSTED, https://developers.google.com/data-manager/api/devguides/limits)
back off. Reasons added by Data Manager v1.8 (release notes, 2026-07-30): ``INVALID_REMOVE_AS_OF_TIME`` (a
full re-sync's RemoveAllAudienceMembers time in Google's future) and ``REQUIRED_PREREQUISITE_LINK_MISSING``
(a link the destination needs is missing), and ``REQUEST_TOO_OLD`` (request status kept about 50 days).
Messages never quote tokens or identifiers (design invariant 5).
"""

from __future__ import annotations

from behavior_sync.destinations.retry import Action, ErrorRule

ANY = None
ErrorKey = tuple[int | None, str | None]

_CREDENTIALS = (
    "Google refused the credentials: put a valid OAuth client id/secret and refresh token (scope "
    "https://www.googleapis.com/auth/datamanager) or a service-account JSON in the google_ads connection"
)
_ACCESS = (
    "the credentials have no access to the operating account: check customer_id (and login_customer_id for a "
    "manager account) in the google_ads connection, and grant the OAuth user or service account access to it"
)
_TERMS = (
    "the Google Ads account has not accepted the Customer Match terms: accept them in Google Ads (Tools > "
    "Shared library > Audience manager > Customer Match terms), then clear the load task"
)
_BUG = "Google refused the request's content: this is a Behavior Sync bug, report it with the task log"
_QUOTA = "the Data Manager API quota is exhausted (429 RESOURCE_EXHAUSTED): the load waits and resumes"
ERROR_TABLE: dict[ErrorKey, ErrorRule] = {
    (401, ANY): ErrorRule(Action.FAIL, _CREDENTIALS),
    (400, "API_KEY_INVALID"): ErrorRule(Action.FAIL, _CREDENTIALS),
    (403, ANY): ErrorRule(Action.FAIL, _ACCESS),
    (400, "TERMS_AND_CONDITIONS_NOT_SIGNED"): ErrorRule(Action.FAIL, _TERMS),
    (400, "INVALID_USER_LIST_ID"): ErrorRule(
        Action.FAIL,
        "the user list is not a list of the operating account (deleted, or the connection now names another "
        "account): run a full re-sync so a new list is created and filled",
    ),
    (400, "TOO_MANY_AUDIENCE_MEMBERS"): ErrorRule(
        Action.FAIL, "a request held more than Google's 10,000 members: lower members_per_request"
    ),
    (400, "INVALID_REMOVE_AS_OF_TIME"): ErrorRule(
        Action.FAIL,
        "Google refused the full re-sync's remove-all time as being in its future: this machine's clock runs "
        "ahead of Google's; synchronize it (NTP), then clear the load task (the re-sync starts over)",
    ),
    (400, "REQUIRED_PREREQUISITE_LINK_MISSING"): ErrorRule(
        Action.FAIL,
        "a link Google requires for this destination is missing (for example the Google Ads link of a data "
        "partner or Google Analytics account, or the partner link between login_customer_id and customer_id): "
        "create or accept the link in Google Ads (Admin > Linked accounts, or the Data Manager's partner links), "
        "then clear the load task",
    ),
    (400, "REQUEST_TOO_OLD"): ErrorRule(
        Action.FAIL,
        "Google keeps a request's status about 50 days and this one is older: its outcome is unknown; run a full "
        "re-sync if the list may lack members",
    ),
    (400, ANY): ErrorRule(Action.FAIL, _BUG),
    (404, ANY): ErrorRule(Action.FAIL, "Google does not know the user list: run a full re-sync"),
    (409, ANY): ErrorRule(
        Action.FAIL, "a user list with this name exists already but could not be found: check audience_name"
    ),
    (429, ANY): ErrorRule(Action.THROTTLE, _QUOTA),
}
_SERVER_ERROR = ErrorRule(Action.RETRY, "Google answered with a server error: the task retries later")
_UNKNOWN = ErrorRule(Action.FAIL, "Google refused the request: see the reason in the Data Manager ErrorReason list")
UNREACHABLE = ErrorRule(Action.RETRY, "Google could not be reached (network error or timeout): the task retries later")


def classify(status: int | None, reason: str | None) -> ErrorRule:
    """The rule for an error: (status, reason), then (status, any); unknown 5xx retry, anything else fails."""
    for key in ((status, reason), (status, ANY)):
        rule = ERROR_TABLE.get(key)
        if rule is not None:
            return rule
    return _SERVER_ERROR if status is not None and status >= 500 else _UNKNOWN


class GoogleAdsError(Exception):
    """A Google Customer Match failure a person must act on (or that outlasted the retries); safe to show.

    ``status`` is the HTTP status and ``reason`` Google's ErrorReason (None for transport errors).
    """

    def __init__(self, message: str, status: int | None = None, reason: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
