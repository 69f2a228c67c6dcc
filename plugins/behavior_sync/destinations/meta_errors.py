"""Meta Graph API errors as a table: (HTTP status, code, subcode) -> action and what the user should do.

Design invariant 8: no string matching. ``classify`` looks the most specific key up first
((status, code, subcode), then (status, any, any), (any, code, subcode), (any, code, any)); 5xx
without an entry retries, anything else fails. Messages never quote tokens or identifiers: they
name the behavior, the destination and the fix. Sources: reference §1.2, §1.3, §1.7 (Meta's error
reference and rate-limiting pages).
"""

from __future__ import annotations

from behavior_sync.destinations.retry import Action, ErrorRule

ANY = None
ErrorKey = tuple[int | None, int | None, int | None]

_TOKEN = (
    "the access token is invalid or expired: create a new system-user token with the ads_management "
    "permission and put it in the connection's Password field"
)
_THROTTLED = "Meta is rate-limiting this ad account; the task waits and resumes, and Airflow retries it later"
ERROR_TABLE: dict[ErrorKey, ErrorRule] = {
    (ANY, 102, ANY): ErrorRule(Action.FAIL, _TOKEN),
    (ANY, 104, ANY): ErrorRule(Action.FAIL, "no access token was sent: put the token in the connection's Password"),
    (ANY, 190, ANY): ErrorRule(Action.FAIL, _TOKEN),
    (ANY, 200, ANY): ErrorRule(
        Action.FAIL,
        "the token has no access to the ad account: in Business Settings assign the ad account to the token's "
        "system user (Manage campaigns) and accept the Custom Audience terms, or fix ad_account_id",
    ),
    (ANY, 294, ANY): ErrorRule(
        Action.FAIL,
        "the token lacks the ads_management permission: generate a token with ads_management for an app "
        "with Marketing API access",
    ),
    (ANY, 100, 33): ErrorRule(
        Action.FAIL,
        "the audience or ad account does not exist or is not visible to this token: check ad_account_id and "
        "the token's access; a deleted audience is re-created by a full re-sync",
    ),
    (ANY, 100, 1713230): ErrorRule(
        Action.FAIL,
        "Meta flagged the audience ('Audience Upload Blocked': its name or content suggests a sensitive "
        "category) and refuses uploads: review the behavior's audience_name and description, delete the "
        "flagged audience in Ads Manager, then run a full re-sync",
    ),
    (ANY, 100, ANY): ErrorRule(
        Action.FAIL,
        "Meta refused a parameter (code 100): check the destination's settings in the behavior file; "
        "if they are right this is a Behavior Sync bug, report it with the task log",
    ),
    (ANY, 105, ANY): ErrorRule(Action.FAIL, "Meta refused the request as too large: report it with the task log"),
    (ANY, 368, ANY): ErrorRule(
        Action.FAIL, "Meta blocked the action as abusive: check the ad account's status in Business Support Home"
    ),
    (ANY, 2650, ANY): ErrorRule(
        Action.RETRY,
        "Meta could not update the audience (code 2650): retry later; if it persists, check the audience in "
        "Ads Manager (deleted, or being replaced)",
    ),
    (ANY, 1, ANY): ErrorRule(Action.RETRY, "Meta had an unknown error: the task retries later"),
    (ANY, 2, ANY): ErrorRule(Action.RETRY, "Meta was temporarily unavailable: the task retries later"),
    (ANY, 4, ANY): ErrorRule(Action.THROTTLE, _THROTTLED),
    (ANY, 17, ANY): ErrorRule(Action.THROTTLE, _THROTTLED),
    (ANY, 613, ANY): ErrorRule(Action.THROTTLE, _THROTTLED),
    **{(ANY, code, ANY): ErrorRule(Action.THROTTLE, _THROTTLED) for code in range(80000, 80015)},
    (414, ANY, ANY): ErrorRule(
        Action.FAIL,
        "the DELETE request URL was too long for Meta: lower remove_batch_members for Meta "
        "(behavior_sync_airflow/destination_registry.py) or MAX_DELETE_QUERY_BYTES",
    ),
}
_SERVER_ERROR = ErrorRule(Action.RETRY, "Meta answered with a server error: the task retries later")
_UNKNOWN = ErrorRule(Action.FAIL, "Meta refused the request: see the error code in Meta's error reference")


def classify(status: int | None, code: int | None, subcode: int | None) -> ErrorRule:
    """The rule for an error: most specific table entry first; unknown 5xx retry, anything else fails."""
    for key in ((status, code, subcode), (status, ANY, ANY), (ANY, code, subcode), (ANY, code, ANY)):
        rule = ERROR_TABLE.get(key)
        if rule is not None:
            return rule
    return _SERVER_ERROR if status is not None and status >= 500 else _UNKNOWN


class MetaError(Exception):
    """A Meta failure a person must act on (or that outlasted the retries); the text is safe to show.

    ``code``/``subcode`` are Meta's (None for transport errors). Never carries tokens or identifiers.
    """

    def __init__(self, message: str, code: int | None = None, subcode: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.subcode = subcode


class MetaAudienceMissing(MetaError):
    """The audience id is unknown to Meta or not visible to the token (code 100, subcode 33)."""


def describe(what: str, status: int | None, code: int | None, subcode: int | None, advice: str) -> str:
    """``<what>: Meta error <code>/<subcode> (HTTP <status>): <advice>`` (no values, no token)."""
    parts = [f"code {code}" if code is not None else "no error code"]
    if subcode is not None:
        parts.append(f"subcode {subcode}")
    if status is not None:
        parts.append(f"HTTP {status}")
    return f"{what}: Meta error ({', '.join(parts)}): {advice}"
