"""A client around the official ``google-ads-datamanager`` SDK (REST transport) for one operating account.

Explicit credentials, no global state: ``DataManagerCredentials`` carries a ``google.auth`` credentials
object built by the hook (OAuth refresh token or service account for Google; ``AnonymousCredentials``
for the local sandbox, which therefore never refreshes against the internet). The SDK's own retries are
switched off (``retry=None``); every call goes through ``DataManagerClient.call``: errors are classified
by ``google_dm_errors.classify``; transient ones are retried ``attempts`` times with backoff and jitter,
quota errors (429 RESOURCE_EXHAUSTED) wait within ``throttle_budget_seconds`` per client, everything else
raises ``GoogleAdsError`` naming the behavior and destination, never quoting credentials or identifiers.

The API version is ``DATA_MANAGER_API_VERSION`` (the SDK module ``datamanager_v1`` and its REST paths
``/v1/...``; a unit test ties the three together). Features of Data Manager release v1.8 (2026-07-30) are
used: ``audienceMembers:removeAll`` with ``remove_as_of_time`` and the ingest answer's ``field_warnings``,
both in ``google-ads-datamanager`` 0.9.4.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import requests
from google.ads import datamanager_v1 as dm
from google.api_core import exceptions
from google.auth.credentials import AnonymousCredentials
from google.oauth2 import credentials as oauth2_credentials
from google.oauth2 import service_account

from behavior_sync.destinations.endpoints import sandbox_base_url
from behavior_sync.destinations.google_dm_errors import UNREACHABLE, GoogleAdsError, classify
from behavior_sync.destinations.google_dm_members import CRM_ID, MOBILE_ID, dm_upload_key_type
from behavior_sync.destinations.google_dm_status import SentRequest, reason_counts
from behavior_sync.destinations.retry import Action, ErrorRule, RetryPolicy, ThrottleBudget, backoff_seconds, jittered

if TYPE_CHECKING:
    from behavior_sync.destinations.google_dm import UserListSpec

log = logging.getLogger(__name__)
T = TypeVar("T")

DATA_MANAGER_API_VERSION = "v1"  # the one pin: the SDK module datamanager_v1, REST paths /v1/... (a test checks)
SCOPE = "https://www.googleapis.com/auth/datamanager"
TOKEN_URI = "https://oauth2.googleapis.com/token"
MAX_MEMBERS_PER_REQUEST = 10_000  # Data Manager API: at most 10,000 AudienceMembers per ingest/remove request
ACCOUNT_TYPE = dm.ProductAccount.AccountType.GOOGLE_ADS
GRANTED = dm.Consent(ad_user_data=dm.ConsentStatus.CONSENT_GRANTED, ad_personalization=dm.ConsentStatus.CONSENT_GRANTED)


def api_endpoint(host: str | None) -> str | None:
    """The API endpoint from a connection's host: None (Google's) when empty, else a local sandbox URL.

    Raises ``GoogleAdsError`` for any other host: only the sandbox may redirect the client (design §5,
    ``endpoints.sandbox_base_url``).
    """
    try:
        return sandbox_base_url(host, "Google Ads")
    except ValueError as exc:
        raise GoogleAdsError(str(exc)) from None


def google_credentials(extras: Mapping[str, Any], endpoint: str | None, scope: str = SCOPE) -> Any:
    """``google.auth`` credentials from a google_ads connection's extras.

    The local sandbox (``endpoint`` set) gets ``AnonymousCredentials``: nothing ever refreshes against
    Google. Otherwise a service-account JSON (``service_account_json``) or an OAuth client with a refresh
    token (``client_id``, ``client_secret``, ``refresh_token``), both with ``scope`` (Data Manager by default); the
    token is fetched on the first call, not here. Raises ``GoogleAdsError`` when neither is configured.
    """
    if endpoint is not None:
        return AnonymousCredentials()  # type: ignore[no-untyped-call]
    if extras.get("service_account_json"):
        info = json.loads(str(extras["service_account_json"]))
        return service_account.Credentials.from_service_account_info(info, scopes=[scope])  # type: ignore[no-untyped-call]
    if all(extras.get(k) for k in ("client_id", "client_secret", "refresh_token")):
        return oauth2_credentials.Credentials(  # type: ignore[no-untyped-call]
            None,
            refresh_token=extras["refresh_token"],
            client_id=extras["client_id"],
            client_secret=extras["client_secret"],
            token_uri=TOKEN_URI,
            scopes=[scope],
        )
    raise GoogleAdsError(
        "the google_ads connection has no Google credentials: set service_account_json, or client_id, "
        "client_secret and refresh_token (an OAuth client with the API's scope: datamanager or adwords) in its extras"
    )


@dataclass(frozen=True)
class DataManagerCredentials:
    """One operating account and how to reach it; ``credentials`` never appears in ``repr``."""

    credentials: Any = field(repr=False)  # google.auth.credentials.Credentials
    operating_account_id: str
    login_account_id: str | None = None
    endpoint: str | None = None  # None: datamanager.googleapis.com
    terms_accepted: bool = False  # the account accepted Google's Customer Match terms of service


class DataManagerClient:
    """Data Manager API calls for one operating account. ``label`` names the behavior and destination in errors."""

    def __init__(
        self,
        credentials: DataManagerCredentials,
        label: str,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.account_id = credentials.operating_account_id
        self.label = label
        self.policy = policy or RetryPolicy()
        self._settings = credentials
        self._sleep = sleep
        self._throttle = ThrottleBudget(self.policy)
        options: dict[str, Any] = {"transport": "rest", "credentials": credentials.credentials}
        if credentials.endpoint:
            options["client_options"] = {"api_endpoint": credentials.endpoint}
        self.ingestion = dm.IngestionServiceClient(**options)
        self.user_lists = dm.UserListServiceClient(**options)

    @property
    def parent(self) -> str:
        """The operating account's resource name (parent of its user lists)."""
        return f"accountTypes/GOOGLE_ADS/accounts/{self.account_id}"

    def call(self, what: str, request: Callable[[], T]) -> T:
        """Runs ``request`` with retries and quota waits; raises ``GoogleAdsError`` (see the module docstring)."""
        attempt = 0
        while True:
            attempt += 1
            try:
                return request()
            except exceptions.GoogleAPICallError as exc:
                status, reason, rule = _status(exc), exc.reason, None
            except requests.RequestException:  # transport failure: its text may hold the URL
                status, reason, rule = None, None, UNREACHABLE
            delay = self._delay(what, status, reason, rule or classify(status, reason), attempt)
            log.warning("%s: %s failed (HTTP %s, %s); retrying in %.0f s", self.label, what, status, reason, delay)
            self._sleep(delay)

    def _delay(self, what: str, status: int | None, reason: str | None, rule: ErrorRule, attempt: int) -> float:
        """Seconds to wait before the next try, or raises ``GoogleAdsError`` when the call must not be retried."""
        code = f"HTTP {status}, {reason}" if status is not None else "no answer"
        message = f"{self.label}: {what}: Google error ({code}): {rule.advice}"
        return wait_or_raise(self.policy, self._throttle, rule, attempt, GoogleAdsError(message, status, reason))

    def check_access(self) -> int:
        """Lists the account's user lists: proves the credentials and the account access; returns how many."""
        return self.call(
            "reading the account's user lists",
            lambda: len(list(self.user_lists.list_user_lists(parent=self.parent, retry=None))),
        )

    def get_user_list(self, list_id: str) -> dm.UserList | None:
        """The account's user list ``list_id``, or None when Google does not know it."""
        name = f"{self.parent}/userLists/{list_id}"

        def read() -> dm.UserList | None:
            try:
                return self.user_lists.get_user_list(name=name, retry=None, timeout=self.policy.timeout_seconds)
            except exceptions.NotFound:
                return None

        return self.call("reading the user list", read)

    def find_user_list(self, display_name: str) -> dm.UserList | None:
        """The account's user list named exactly ``display_name`` (the first listed), or None."""

        def first() -> dm.UserList | None:
            pages = self.user_lists.list_user_lists(parent=self.parent, retry=None, timeout=self.policy.timeout_seconds)
            return next((ul for ul in pages if ul.display_name == display_name), None)

        return self.call("looking the user list up by name", first)

    def create_user_list(self, spec: UserListSpec) -> dm.UserList:
        """Creates an open first-party Customer Match list of ``spec``'s upload key type; returns it."""
        user_list = dm.UserList(
            display_name=spec.name,
            description=spec.description,
            membership_duration={"seconds": spec.membership_days * 86400},
            membership_status=dm.UserList.MembershipStatus.OPEN,
            ingested_user_list_info=ingested_info(spec),
        )
        return self.call(
            "creating the user list",
            lambda: self.user_lists.create_user_list(
                parent=self.parent, user_list=user_list, retry=None, timeout=self.policy.timeout_seconds
            ),
        )

    def ingest(self, list_id: str, members: Sequence[dm.AudienceMember]) -> SentRequest:
        """Adds ``members`` (HEX SHA-256; every one consented, so request-level consent is GRANTED); returns the
        request id, the members and the field warnings Google answered (counted per reason: their descriptions
        and field paths are not kept)."""
        terms = dm.TermsOfService(customer_match_terms_of_service_status=dm.TermsOfServiceStatus.ACCEPTED)
        request = dm.IngestAudienceMembersRequest(
            destinations=[self._destination(list_id)],
            audience_members=list(members),
            consent=GRANTED,
            encoding=dm.Encoding.HEX,
            terms_of_service=terms if self._settings.terms_accepted else None,
        )
        answer = self.call(
            f"adding {len(members)} members",
            lambda: self.ingestion.ingest_audience_members(
                request=request, retry=None, timeout=self.policy.timeout_seconds
            ),
        )
        warned = reason_counts((warning.reason, 1) for warning in answer.field_warnings)
        return SentRequest(str(answer.request_id), len(members), warned)

    def remove(self, list_id: str, members: Sequence[dm.AudienceMember]) -> SentRequest:
        """Removes ``members`` (every stored member sharing an identifier); returns the request id and the members."""
        request = dm.RemoveAudienceMembersRequest(
            destinations=[self._destination(list_id)], audience_members=list(members), encoding=dm.Encoding.HEX
        )
        answer = self.call(
            f"removing {len(members)} members",
            lambda: self.ingestion.remove_audience_members(
                request=request, retry=None, timeout=self.policy.timeout_seconds
            ),
        )
        return SentRequest(str(answer.request_id), len(members))

    def remove_all(self, list_id: str, as_of: dt.datetime) -> SentRequest:
        """RemoveAllAudienceMembers: once Google processes it, the list loses every member last added before
        ``as_of`` (aware; Google refuses a time in its future: ``INVALID_REMOVE_AS_OF_TIME``), whenever the
        members added since are processed; returns the request id (no members)."""
        request = dm.RemoveAllAudienceMembersRequest(destinations=[self._destination(list_id)], remove_as_of_time=as_of)
        answer = self.call(
            "removing all members (full re-sync)",
            lambda: self.ingestion.remove_all_audience_members(
                request=request, retry=None, timeout=self.policy.timeout_seconds
            ),
        )
        return SentRequest(str(answer.request_id), 0)

    def request_status(self, request_id: str) -> list[dm.RequestStatusPerDestination]:
        """What Google says about an accepted request, one entry per destination."""
        request = dm.RetrieveRequestStatusRequest(request_id=request_id)
        answer = self.call(
            "reading the request status",
            lambda: self.ingestion.retrieve_request_status(
                request=request, retry=None, timeout=self.policy.timeout_seconds
            ),
        )
        return list(answer.request_status_per_destination)

    def _destination(self, list_id: str) -> dm.Destination:
        operating = dm.ProductAccount(account_id=self.account_id, account_type=ACCOUNT_TYPE)
        login = self._settings.login_account_id
        return dm.Destination(
            operating_account=operating,
            login_account=dm.ProductAccount(account_id=login, account_type=ACCOUNT_TYPE) if login else None,
            product_destination_id=list_id,
        )


def ingested_info(spec: UserListSpec) -> dm.IngestedUserListInfo:
    """The ``IngestedUserListInfo`` of a first-party list of ``spec``'s upload key type. Mobile ids: the key
    space follows the app id (digits: an App Store id, IOS; else an Android package name, ANDROID)."""
    first_party = dm.DataSourceType.DATA_SOURCE_TYPE_FIRST_PARTY
    info = dm.IngestedUserListInfo(upload_key_types=[dm_upload_key_type(spec.key_type)])
    if spec.key_type == CRM_ID:
        info.user_id_info = dm.UserIdInfo(data_source_type=first_party)
    elif spec.key_type == MOBILE_ID:
        space = dm.MobileIdInfo.KeySpace.IOS if spec.app_id.isdigit() else dm.MobileIdInfo.KeySpace.ANDROID
        info.mobile_id_info = dm.MobileIdInfo(data_source_type=first_party, key_space=space, app_id=spec.app_id)
    else:
        info.contact_id_info = dm.ContactIdInfo(data_source_type=first_party)
    return info


def wait_or_raise(
    policy: RetryPolicy, throttle: ThrottleBudget, rule: ErrorRule, attempt: int, error: GoogleAdsError
) -> float:
    """Seconds to wait before try ``attempt + 1`` under ``rule``, or raises ``error`` (its message extended with
    why): quota errors wait within the ``throttle`` budget, transient ones ``policy.attempts`` times with jitter,
    anything else raises at once. Shared by the Data Manager and Google Ads API clients."""
    delay = backoff_seconds(policy, attempt)
    if rule.action is Action.THROTTLE:
        if not throttle.spend(delay):
            raise GoogleAdsError(
                f"{error} (beyond the task's throttle budget of {throttle.limit:.0f} s)", error.status, error.reason
            )
        return delay
    if rule.action is Action.FAIL:
        raise error
    if attempt >= policy.attempts:
        raise GoogleAdsError(f"{error} (gave up after {attempt} attempts)", error.status, error.reason)
    return jittered(delay)


def _status(exc: exceptions.GoogleAPICallError) -> int | None:
    """The HTTP status of a REST error (``exc.code`` is an int over REST)."""
    code = exc.code
    return code if isinstance(code, int) else None
