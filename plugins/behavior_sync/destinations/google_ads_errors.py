"""Google Ads API errors as a table: the error code of a ``GoogleAdsException`` -> action and what to do.

The Google Ads API answers a refused call with a ``GoogleAdsException`` whose ``failure.errors`` carry
typed codes (``not_allowlisted_error.CUSTOMER_NOT_ALLOWLISTED_FOR_THIS_FEATURE`` ...); ``error_codes``
names them ``<kind>.<CODE>`` and ``classify`` finds the first code in ``ERROR_TABLE`` (by code name).
Quota errors arrive differently: gRPC RESOURCE_EXHAUSTED is re-raised by the SDK as
``google.api_core.exceptions.ResourceExhausted`` (``QUOTA``, back off); other raw gRPC errors
(UNAVAILABLE, INTERNAL, DEADLINE_EXCEEDED) are transient (``TRANSIENT``). Messages never quote tokens
or identifiers (design invariant 5).

A transient error may come after Google acted (the answer was lost): the retried call then meets the
effect of the first. ``JOB_ALREADY_STARTED`` is that effect for RunOfflineUserDataJob (the client confirms
the job's status instead of failing, ``JOB_FAILED`` when Google reports it FAILED); a retried
AddOfflineUserDataJobOperations stores its operations twice, which Customer Match ignores (a list is a set).
"""

from __future__ import annotations

from google.ads.googleads.errors import GoogleAdsException
from google.api_core import exceptions

from behavior_sync.destinations.retry import Action, ErrorRule

_CREDENTIALS = (
    "Google refused the credentials: put a valid OAuth client id/secret and refresh token (scope "
    "https://www.googleapis.com/auth/adwords) or a service-account JSON in the google_ads connection"
)
_ACCESS = (
    "the credentials have no access to the customer: check customer_id (and login_customer_id for a manager "
    "account) in the google_ads connection, and grant the OAuth user or service account access to it"
)
_BUG = "Google refused the request's content: this is a Behavior Sync bug, report it with the task log"
QUOTA = ErrorRule(
    Action.THROTTLE, "the Google Ads API quota is exhausted (RESOURCE_EXHAUSTED): the load waits and resumes"
)
TRANSIENT = ErrorRule(Action.RETRY, "Google could not answer (server error, network or timeout): the task retries")
ERROR_TABLE: dict[str, ErrorRule] = {
    "CUSTOMER_NOT_ALLOWLISTED_FOR_THIS_FEATURE": ErrorRule(
        Action.FAIL,
        "this developer token may not upload Customer Match lists through the Google Ads API (Google closed it "
        "to tokens new to Customer Match on 2026-04-01): switch this destination to api: data_manager",
    ),
    "CUSTOMER_NOT_ACCEPTED_CUSTOMER_DATA_TERMS": ErrorRule(
        Action.FAIL,
        "the Google Ads account has not accepted the customer data terms (or the upload lacks consent): accept "
        "them in Google Ads (Tools > Audience manager > Customer Match terms), then clear the load task",
    ),
    "DEVELOPER_TOKEN_INVALID": ErrorRule(
        Action.FAIL,
        "Google refused the developer token: put the account's approved developer token (API Center in the "
        "manager account) in the google_ads connection's password",
    ),
    "DEVELOPER_TOKEN_NOT_APPROVED": ErrorRule(
        Action.FAIL, "the developer token is only approved for test accounts: apply for Basic or Standard access"
    ),
    "AUTHENTICATION_ERROR": ErrorRule(Action.FAIL, _CREDENTIALS),
    "OAUTH_TOKEN_INVALID": ErrorRule(Action.FAIL, _CREDENTIALS),
    "USER_PERMISSION_DENIED": ErrorRule(Action.FAIL, _ACCESS),
    "CUSTOMER_NOT_ENABLED": ErrorRule(Action.FAIL, _ACCESS),
    "INVALID_USER_LIST_ID": ErrorRule(
        Action.FAIL,
        "the user list is not a list of the customer (deleted, or the connection now names another customer): "
        "run a full re-sync so a new list is created and filled",
    ),
    "RESOURCE_EXHAUSTED": QUOTA,
    "RESOURCE_TEMPORARILY_EXHAUSTED": QUOTA,
    "INTERNAL_ERROR": TRANSIENT,
    "TRANSIENT_ERROR": TRANSIENT,
}
_UNKNOWN = ErrorRule(Action.FAIL, _BUG)
JOB_ALREADY_STARTED = "offline_user_data_job_error.JOB_ALREADY_STARTED"
JOB_FAILED = ErrorRule(
    Action.FAIL,
    "Google could not process the upload job (some of its operations may have been applied): the batch stays "
    "unacknowledged, so the load task's retry (or clearing it) sends it again in a new job, which is harmless "
    "for members already applied",
)
RAW_TRANSIENT = (exceptions.ServiceUnavailable, exceptions.InternalServerError, exceptions.DeadlineExceeded)


def error_codes(error: GoogleAdsException) -> list[str]:
    """``"<kind>.<CODE>"`` of every error in a ``GoogleAdsException`` (e.g. ``quota_error.RESOURCE_EXHAUSTED``)."""
    found = []
    for item in error.failure.errors:
        code = item.error_code
        kind = type(code).pb(code).WhichOneof("error_code")
        if kind:
            found.append(f"{kind}.{getattr(code, kind).name}")
    return found


def classify(codes: list[str]) -> ErrorRule:
    """The rule of the first known code (``<kind>.<CODE>``) of a refusal; unknown codes fail as a bug."""
    for code in codes:
        rule = ERROR_TABLE.get(code.rsplit(".", 1)[-1])
        if rule is not None:
            return rule
    return _UNKNOWN
