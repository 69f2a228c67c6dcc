"""A client around the official ``google-ads`` SDK (gRPC) for one customer: Customer Match through the Google Ads API.

It answers the same calls as ``google_dm_client.DataManagerClient`` (``UserListClient`` in ``google_dm``),
so ``GoogleDataManagerDestination`` loads through either API unchanged: lists are ``dm.UserList``
(the Google Ads row converted: id, name, open/closed, search/display sizes) and ``ingest``/``remove``
take the Data Manager ``AudienceMember`` objects built by ``google_dm_members`` and answer an id for
the run's request log, here the resource name of the ``OfflineUserDataJob`` that carried them.

The Google Ads API version is pinned in ``GOOGLE_ADS_API_VERSION`` and given to the SDK client
(``GoogleAdsClient(version=...)``), which then uses it for every service, type and enum it hands out, so a
newer ``google-ads`` release (whose default moves on) changes nothing until the constant does; a test checks
it equals the version the Google Ads sandbox serves.

One call of ``ingest`` or ``remove`` is one job: CreateOfflineUserDataJob (CUSTOMER_MATCH_USER_LIST,
job-level consent GRANTED: members without consent never reach a load), AddOfflineUserDataJobOperations
(operations from ``google_ads_members``) in requests of at most ``identifiers_per_request`` identifiers
(default 10,000, Google's recommendation; cap 100,000), then RunOfflineUserDataJob without
waiting: ``job_outcome`` reads the job's status later (GoogleAdsService.Search), for the wait step's
trigger. A job holds only creates or only removes (Google refuses both in one job). Explicit credentials,
no global state; the sandbox gets a static OAuth token that has no refresh token, so it is never
refreshed against Google. Errors: ``google_ads_errors`` classifies them and ``wait_or_raise`` (shared
with the Data Manager client) retries, waits on quota within the throttle budget, or raises
``GoogleAdsError`` with what to do.

Retries after a lost answer (a transient error raised after Google acted) never change the result:
* Create: the retry creates a second job; the first stays empty and is never run (it changes nothing),
  which is logged as a warning (no identifiers);
* Add: the retry stores the same operations again; Customer Match lists are sets, so the job applies
  the same members;
* Run: the retry meets ``JOB_ALREADY_STARTED``; the job's status (Search) must then be PENDING, RUNNING or
  SUCCESS and the request goes on, else ``GoogleAdsError`` (``JOB_FAILED``).
A batch that fails anyway stays unacknowledged and is sent again by a task retry, in new jobs: adding or
removing the same members twice gives the same list, so that is idempotent too.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from google.ads import datamanager_v1 as dm
from google.ads.googleads.client import GoogleAdsClient
from google.ads.googleads.errors import GoogleAdsException
from google.api_core import exceptions
from google.oauth2 import credentials as oauth2_credentials
from urllib3.util import parse_url

from behavior_sync.destinations.google_ads_errors import (
    JOB_ALREADY_STARTED,
    JOB_FAILED,
    QUOTA,
    RAW_TRANSIENT,
    TRANSIENT,
    classify,
    error_codes,
)
from behavior_sync.destinations.google_ads_members import (
    ADS_KEY_TYPES,
    LIST_FIELDS,
    as_user_list,
    job_operation,
    requests_of,
)
from behavior_sync.destinations.google_dm_client import api_endpoint, google_credentials, wait_or_raise
from behavior_sync.destinations.google_dm_errors import GoogleAdsError
from behavior_sync.destinations.google_dm_members import dm_upload_key_type
from behavior_sync.destinations.google_dm_status import RequestOutcome, SentRequest
from behavior_sync.destinations.retry import ErrorRule, RetryPolicy, ThrottleBudget

if TYPE_CHECKING:
    from behavior_sync.destinations.google_dm import UserListSpec

log = logging.getLogger(__name__)
T = TypeVar("T")

GOOGLE_ADS_API_VERSION = "v26"  # the one pin (google-ads 34.0.0 defaults to it; v26 sunsets about Nov 2027)
SCOPE = "https://www.googleapis.com/auth/adwords"
SANDBOX_OAUTH_TOKEN = "sandbox-oauth-token"  # the local sandbox accepts any bearer token
MAX_IDENTIFIERS_PER_REQUEST = 100_000  # per AddOfflineUserDataJobOperations request
DEFAULT_IDENTIFIERS_PER_REQUEST = 10_000  # Google's recommendation (reference §2.3)
SETTLED = frozenset({"SUCCESS", "FAILED"})
STARTED = frozenset({"PENDING", "RUNNING", "SUCCESS"})  # a job Run found started may go on in these


def grpc_endpoint(host: str | None) -> str | None:
    """``host:port`` of the local sandbox from a connection's Host, None (Google's) when empty: the
    authority of the URL ``google_dm_client.api_endpoint`` rebuilt (no user, no path). Raises
    ``GoogleAdsError`` for any other host, and for a path (a gRPC endpoint has none)."""
    url = api_endpoint(host)
    if url is None:
        return None
    parts = parse_url(url)
    if parts.path:
        raise GoogleAdsError("the Google Ads API endpoint in the connection's Host is HOST:PORT, without a path")
    return parts.netloc


def ads_credentials(extras: Mapping[str, Any], endpoint: str | None) -> Any:
    """``google.auth`` credentials for the Google Ads API: a static token for the sandbox (never refreshed),
    else the connection's service account or OAuth client with the adwords scope (``google_credentials``)."""
    if endpoint is not None:
        return oauth2_credentials.Credentials(token=SANDBOX_OAUTH_TOKEN)  # type: ignore[no-untyped-call]
    return google_credentials(extras, None, SCOPE)


@dataclass(frozen=True)
class GoogleAdsApiCredentials:
    """One customer and how to reach it; the credentials and the developer token never appear in ``repr``."""

    credentials: Any = field(repr=False)  # google.auth.credentials.Credentials
    developer_token: str = field(repr=False)
    customer_id: str
    login_customer_id: str | None = None
    endpoint: str | None = None  # None: googleads.googleapis.com


class GoogleAdsApiClient:
    """Google Ads API Customer Match calls for one customer; ``label`` names the behavior and destination."""

    def __init__(
        self,
        credentials: GoogleAdsApiCredentials,
        label: str,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        identifiers_per_request: int = DEFAULT_IDENTIFIERS_PER_REQUEST,
    ) -> None:
        if not 1 <= identifiers_per_request <= MAX_IDENTIFIERS_PER_REQUEST:
            raise GoogleAdsError(f"identifiers_per_request must be 1..{MAX_IDENTIFIERS_PER_REQUEST}")
        self.account_id = credentials.customer_id
        self.label = label
        self.policy = policy or RetryPolicy()
        self.identifiers_per_request = identifiers_per_request
        self._sleep = sleep
        self._throttle = ThrottleBudget(self.policy)
        self._timeout = self.policy.timeout_seconds  # gRPC deadline of every call
        options: dict[str, Any] = {"endpoint": credentials.endpoint} if credentials.endpoint else {}
        self.ads = GoogleAdsClient(
            credentials=credentials.credentials,
            developer_token=credentials.developer_token,
            login_customer_id=credentials.login_customer_id,
            use_proto_plus=True,
            version=GOOGLE_ADS_API_VERSION,
            **options,
        )

    def call(self, what: str, request: Callable[[], T]) -> T:
        """Runs ``request``: retries transient errors, waits out quota within the throttle budget, else raises
        ``GoogleAdsError`` (``reason``: Google's first error code) naming ``what`` and what to do."""
        attempt = 0
        while True:
            attempt += 1
            try:
                return request()
            except GoogleAdsException as exc:
                codes = error_codes(exc)
                reason, rule = ",".join(codes) or exc.error.code().name, classify(codes)
            except exceptions.ResourceExhausted:
                reason, rule = "RESOURCE_EXHAUSTED", QUOTA
            except RAW_TRANSIENT as exc:
                reason, rule = type(exc).__name__, TRANSIENT
            delay = self._delay(what, reason, rule, attempt)
            log.warning("%s: %s failed (%s); retrying in %.0f s", self.label, what, reason, delay)
            self._sleep(delay)

    def _delay(self, what: str, reason: str, rule: ErrorRule, attempt: int) -> float:
        message = f"{self.label}: {what}: Google Ads API error ({reason}): {rule.advice}"
        return wait_or_raise(self.policy, self._throttle, rule, attempt, GoogleAdsError(message, None, reason))

    def search(self, what: str, query: str) -> list[Any]:
        """The rows of a GAQL query over the customer (one page: Google answers every row)."""
        service = self.ads.get_service("GoogleAdsService")
        return self.call(
            what, lambda: list(service.search(customer_id=self.account_id, query=query, timeout=self._timeout))
        )

    def check_access(self) -> int:
        """Reads the customer's user lists: proves credentials, developer token and access; returns how many."""
        return len(self.search("reading the customer's user lists", "SELECT user_list.id FROM user_list"))

    def get_user_list(self, list_id: str) -> dm.UserList | None:
        """The customer's user list ``list_id`` (as a Data Manager ``UserList``), or None when Google lacks it."""
        if not list_id.isdigit():
            return None
        rows = self.search(
            "reading the user list", f"SELECT {LIST_FIELDS} FROM user_list WHERE user_list.id = {list_id}"
        )
        return as_user_list(rows[0].user_list) if rows else None

    def find_user_list(self, display_name: str) -> dm.UserList | None:
        """The customer's user list named exactly ``display_name`` (the first found), or None."""
        quoted = display_name.replace("\\", "\\\\").replace("'", "\\'")
        query = f"SELECT {LIST_FIELDS} FROM user_list WHERE user_list.name = '{quoted}'"
        rows = self.search("looking the user list up by name", query)
        return as_user_list(rows[0].user_list) if rows else None

    def create_user_list(self, spec: UserListSpec) -> dm.UserList:
        """Creates an open CRM-based list of ``spec``'s upload key type (with its app for mobile ids) and
        ``membership_days`` life span; returns it."""
        operation = self.ads.get_type("UserListOperation")
        user_list = operation.create
        user_list.name = spec.name
        user_list.description = spec.description
        user_list.membership_life_span = spec.membership_days
        user_list.membership_status = self.ads.enums.UserListMembershipStatusEnum.OPEN
        crm = user_list.crm_based_user_list
        crm.upload_key_type = getattr(self.ads.enums.CustomerMatchUploadKeyTypeEnum, ADS_KEY_TYPES[spec.key_type])
        if spec.app_id:
            crm.app_id = spec.app_id
        service = self.ads.get_service("UserListService")
        response = self.call(
            "creating the user list",
            lambda: service.mutate_user_lists(
                customer_id=self.account_id, operations=[operation], timeout=self._timeout
            ),
        )
        list_id = str(response.results[0].resource_name).rsplit("/", 1)[-1]
        info = dm.IngestedUserListInfo(upload_key_types=[dm_upload_key_type(spec.key_type)])
        return dm.UserList(
            id=int(list_id), display_name=spec.name, membership_status="OPEN", ingested_user_list_info=info
        )

    def ingest(self, list_id: str, members: Sequence[dm.AudienceMember]) -> SentRequest:
        """Adds ``members`` (SHA-256 hex, consent granted) in one job, run; returns the job's resource name and
        the members it carried."""
        return SentRequest(self._run_job(list_id, "create", members), len(members))

    def remove(self, list_id: str, members: Sequence[dm.AudienceMember]) -> SentRequest:
        """Removes ``members`` in one job (removes only), run; returns the job's resource name and the members."""
        return SentRequest(self._run_job(list_id, "remove", members), len(members))

    def job_outcome(self, job: str, members: int = 1) -> RequestOutcome | None:
        """The outcome of a run job, or None while Google has not settled it (PENDING, RUNNING). ``records`` is
        ``members``, the members the job carried as the load recorded them (Google reports no count; 1 weighs
        jobs equally), and finished create jobs have their match-rate range. Raises ``GoogleAdsError``."""
        found = self._job(job)
        if found.status.name not in SETTLED:
            return None
        rate = int(found.operation_metadata.match_rate_range)
        return RequestOutcome(job, found.status.name, members, rate if rate >= 2 else None)

    def _job(self, job: str) -> Any:
        """The ``offline_user_data_job`` row of ``job`` (status, match-rate range); raises ``GoogleAdsError``
        when Google does not know it."""
        fields = "offline_user_data_job.status, offline_user_data_job.operation_metadata.match_rate_range"
        query = f"SELECT {fields} FROM offline_user_data_job WHERE offline_user_data_job.resource_name = '{job}'"
        rows = self.search("reading the job status", query)
        if not rows:
            raise GoogleAdsError(f"{self.label}: Google does not know the job {job}: run the load again")
        return rows[0].offline_user_data_job

    def _run_job(self, list_id: str, kind: str, members: Sequence[dm.AudienceMember]) -> str:
        """Creates a job for ``list_id``, adds one ``kind`` operation per member in bounded requests, runs it;
        returns its resource name. Lost answers are safe to retry (module docstring)."""
        service = self.ads.get_service("OfflineUserDataJobService")
        name = self._create_job(service, list_id)
        try:
            operations = [job_operation(self.ads, kind, member) for member in members]
        except ValueError as exc:
            raise GoogleAdsError(f"{self.label}: {exc}") from None
        for part in requests_of(operations, self.identifiers_per_request):
            self._add(service, name, kind, part)
        self._start(service, name)
        return name

    def _create_job(self, service: Any, list_id: str) -> str:
        """CreateOfflineUserDataJob for ``list_id``; its resource name. When it took more than one try, an earlier
        try may have created an empty job that is never run (harmless): logged as a warning."""
        job = self._new_job(list_id)
        create = _Counted(
            lambda: service.create_offline_user_data_job(customer_id=self.account_id, job=job, timeout=self._timeout)
        )
        name = str(self.call("creating the upload job", create).resource_name)
        if create.tries > 1:
            log.warning(
                "%s: the upload job was created on try %d: an earlier try may have left an empty job that is never "
                "run (it changes no list)", self.label, create.tries,
            )  # fmt: skip
        return name

    def _add(self, service: Any, job: str, kind: str, operations: list[Any]) -> None:
        """One AddOfflineUserDataJobOperations request (no partial failure: Google refuses it whole). A retry after
        a lost answer stores the operations twice, which leaves the list the same."""
        request = self.ads.get_type("AddOfflineUserDataJobOperationsRequest")
        request.resource_name = job
        request.operations.extend(operations)
        what = f"adding {len(operations)} {kind} operations"
        self.call(what, lambda: service.add_offline_user_data_job_operations(request=request, timeout=self._timeout))

    def _start(self, service: Any, job: str) -> None:
        """RunOfflineUserDataJob, not waiting for it. ``JOB_ALREADY_STARTED`` (a try whose answer was lost started
        the job) is accepted once Search shows the job PENDING, RUNNING or SUCCESS: no operation can be added after
        a run, so whoever started it, it holds all of this request's. Raises ``GoogleAdsError`` (``JOB_FAILED``
        advice when Google reports the job FAILED)."""

        def run() -> bool:
            try:
                service.run_offline_user_data_job(resource_name=job, timeout=self._timeout)
            except GoogleAdsException as exc:
                if JOB_ALREADY_STARTED not in error_codes(exc):
                    raise
                return False
            return True

        if self.call("running the upload job", run):
            return
        status = self._job(job).status.name
        if status not in STARTED:
            message = f"{self.label}: running the upload job: Google reports it {status}: {JOB_FAILED.advice}"
            raise GoogleAdsError(message, None, status)
        log.info(
            "%s: the upload job had already started (an earlier answer was lost); Google reports %s", self.label, status
        )

    def _new_job(self, list_id: str) -> Any:
        """A CUSTOMER_MATCH_USER_LIST job for ``list_id`` with consent GRANTED (identity filtered the members)."""
        job = self.ads.get_type("OfflineUserDataJob")
        job.type_ = self.ads.enums.OfflineUserDataJobTypeEnum.CUSTOMER_MATCH_USER_LIST
        metadata = job.customer_match_user_list_metadata
        metadata.user_list = self.ads.get_service("UserListService").user_list_path(self.account_id, list_id)
        metadata.consent.ad_user_data = self.ads.enums.ConsentStatusEnum.GRANTED
        metadata.consent.ad_personalization = self.ads.enums.ConsentStatusEnum.GRANTED
        return job


class _Counted(Generic[T]):
    """A request that counts how many times it was tried (``tries``), for ``GoogleAdsApiClient.call``."""

    def __init__(self, request: Callable[[], T]) -> None:
        self._request = request
        self.tries = 0

    def __call__(self) -> T:
        self.tries += 1
        return self._request()
