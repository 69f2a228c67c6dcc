"""A client around the facebook-business SDK for one ad account, with explicit credentials.

No global SDK state: the session and the API object are built here (``FacebookAdsApi.init`` is never
called, so the SDK's crash reporter, which posts to graph.facebook.com, is never installed). The
Graph API version is pinned in ``GRAPH_API_VERSION``. Every call goes through ``MetaClient.call``:
errors are classified by ``meta_errors.classify``; transient ones are retried ``attempts`` times with
backoff and jitter, throttles wait what Meta's ``X-Business-Use-Case-Usage`` header asks (within
``throttle_budget_seconds`` per client), everything else raises ``MetaError`` with a message that
names the behavior and destination and never quotes the token or identifiers.
"""

from __future__ import annotations

import itertools
import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import requests
from facebook_business.adobjects.adaccount import AdAccount
from facebook_business.adobjects.customaudience import CustomAudience
from facebook_business.api import FacebookAdsApi
from facebook_business.exceptions import FacebookRequestError
from facebook_business.session import FacebookSession

from behavior_sync.destinations.endpoints import sandbox_base_url
from behavior_sync.destinations.meta_errors import MetaAudienceMissing, MetaError, classify, describe
from behavior_sync.destinations.retry import Action, ErrorRule, RetryPolicy, ThrottleBudget, backoff_seconds, jittered

log = logging.getLogger(__name__)
T = TypeVar("T")

GRAPH_API_VERSION = "v26.0"  # the one pin; equals facebook-business 26.0.3's default (a unit test checks it)
USAGE_HEADER = "X-Business-Use-Case-Usage"
AUDIENCE_FIELDS = (
    "name",
    "approximate_count_lower_bound",
    "approximate_count_upper_bound",
    "operation_status",
    "delivery_status",
)
_UNREACHABLE = ErrorRule(Action.RETRY, "Meta could not be reached (network error or timeout): the task retries later")


def api_base_url(host: str | None) -> str | None:
    """The Graph base URL from a connection's host: None (Meta's own) when empty, else a local sandbox URL.

    Raises ``MetaError`` for any other host: only the sandbox may redirect the client (design §5).
    """
    try:
        return sandbox_base_url(host, "Meta")
    except ValueError as exc:
        raise MetaError(str(exc)) from None


@dataclass(frozen=True)
class MetaCredentials:
    """One ad account's credentials; the token and app secret never appear in ``repr``."""

    access_token: str = field(repr=False)
    ad_account_id: str  # act_<digits>
    app_secret: str | None = field(default=None, repr=False)
    base_url: str | None = None  # None: https://graph.facebook.com


@dataclass(frozen=True)
class Failure:
    """What a failed call told us: HTTP status, Meta code and subcode, and the seconds Meta asks to wait."""

    status: int | None
    code: int | None
    subcode: int | None
    regain_seconds: float

    @classmethod
    def of(cls, exc: FacebookRequestError) -> Failure:
        """From the SDK's exception (reads only codes and the usage header, never the request)."""
        return cls(exc.http_status(), exc.api_error_code(), exc.api_error_subcode(), _regain_seconds(exc))


def _regain_seconds(exc: FacebookRequestError) -> float:
    """``estimated_time_to_regain_access`` (minutes) of the usage header, in seconds (0 when absent)."""
    headers = exc.http_headers() or {}
    try:
        usage = json.loads(headers.get(USAGE_HEADER) or "{}")
        minutes = [float(e.get("estimated_time_to_regain_access", 0)) for v in usage.values() for e in v]
    except (ValueError, TypeError, AttributeError):
        return 0.0
    return max(minutes, default=0.0) * 60


class MetaClient:
    """Graph API calls for one ad account. ``label`` names the behavior and destination in every error."""

    def __init__(
        self,
        credentials: MetaCredentials,
        label: str,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.account_id = credentials.ad_account_id
        self.label = label
        self.policy = policy or RetryPolicy()
        self._sleep = sleep
        self._throttle = ThrottleBudget(self.policy)
        session = FacebookSession(
            access_token=credentials.access_token,
            app_secret=credentials.app_secret,
            timeout=self.policy.timeout_seconds,
        )
        if credentials.base_url:
            session.GRAPH = credentials.base_url  # the instance only; the class default stays Meta's
        self.api = FacebookAdsApi(session, api_version=GRAPH_API_VERSION)

    def call(self, what: str, request: Callable[[], T]) -> T:
        """Runs ``request`` with retries and throttle waits; raises ``MetaError`` (see the module docstring)."""
        attempt = 0
        while True:
            attempt += 1
            try:
                return request()
            except FacebookRequestError as exc:
                failure, rule = Failure.of(exc), None
            except requests.RequestException:  # its text holds the URL, hence the token: never shown
                failure, rule = Failure(None, None, None, 0.0), _UNREACHABLE
            delay = self._delay(what, failure, rule or classify(failure.status, failure.code, failure.subcode), attempt)
            log.warning("%s: %s failed (code %s, HTTP %s); retrying in %.0f s", self.label, what, failure.code,
                        failure.status, delay)  # fmt: skip
            self._sleep(delay)

    def _delay(self, what: str, failure: Failure, rule: ErrorRule, attempt: int) -> float:
        """Seconds to wait before the next try, or raises ``MetaError`` when the call must not be retried."""
        message = f"{self.label}: " + describe(what, failure.status, failure.code, failure.subcode, rule.advice)
        if (failure.code, failure.subcode) == (100, 33):
            raise MetaAudienceMissing(message, failure.code, failure.subcode)
        backoff = backoff_seconds(self.policy, attempt)
        if rule.action is Action.THROTTLE:
            delay = max(failure.regain_seconds, backoff)
            if not self._throttle.spend(delay):
                raise MetaError(
                    f"{message} (Meta asks to wait {delay:.0f} s, beyond the task's throttle budget of "
                    f"{self._throttle.limit:.0f} s)",
                    failure.code,
                    failure.subcode,
                )
            return delay
        if rule.action is Action.FAIL:
            raise MetaError(message, failure.code, failure.subcode)
        if attempt >= self.policy.attempts:
            raise MetaError(f"{message} (gave up after {attempt} attempts)", failure.code, failure.subcode)
        return jittered(backoff)

    def _account(self) -> AdAccount:
        return AdAccount(self.account_id, api=self.api)

    def check_access(self) -> int:
        """Lists one page of the account's audiences: proves the token and the account access; returns its size."""
        page = self.call("reading the ad account", lambda: self._account().get_custom_audiences(params={"limit": 1}))
        return len(page)

    def read_audience(self, audience_id: str) -> dict[str, Any]:
        """The audience's name, size bounds and statuses; raises ``MetaAudienceMissing`` when it is gone."""
        audience = CustomAudience(audience_id, api=self.api)
        fields = self.call("reading the audience", lambda: audience.api_get(fields=list(AUDIENCE_FIELDS)))
        return dict(fields.export_all_data())

    def audience_sessions(self, audience_id: str, limit: int = 25) -> list[dict[str, Any]]:
        """The audience's latest upload sessions (``GET /{id}/sessions``: session_id, num_received, num_matched,
        num_invalid_entries, stage, start_time, end_time), newest first, at most ``limit``."""
        audience = CustomAudience(audience_id, api=self.api)

        def sessions() -> list[dict[str, Any]]:
            cursor = audience.get_sessions(params={"limit": limit})
            return [dict(s.export_all_data()) for s in itertools.islice(cursor, limit)]

        return self.call("reading the audience's upload sessions", sessions)

    def find_audience(self, name: str) -> str | None:
        """The id of the account's audience named exactly ``name`` (the oldest one), or None."""

        def ids() -> list[str]:
            cursor = self._account().get_custom_audiences(fields=["id", "name"], params={"limit": 500})
            return [str(a["id"]) for a in cursor if a.get("name") == name]

        found = self.call("looking the audience up by name", ids)
        return found[0] if found else None

    def create_audience(self, name: str, description: str, customer_file_source: str) -> str:
        """Creates a customer-file audience (subtype CUSTOM); returns its id."""
        params = {
            "name": name,
            "subtype": CustomAudience.Subtype.custom,
            "customer_file_source": customer_file_source,
            "description": description,
        }
        created = self.call("creating the audience", lambda: self._account().create_custom_audience(params=params))
        return str(created["id"])

    def upload(
        self,
        audience_id: str,
        op: str,
        schema: Sequence[str],
        data: Sequence[Sequence[str]],
        session: Mapping[str, Any],
    ) -> dict[str, Any]:
        """One request of pre-hashed multi-key rows (the SDK never hashes: ``pre_hashed``).

        ``op``: add (POST /users), remove (DELETE /users, payload in the URL) or replace (POST
        /usersreplace). Returns Meta's answer (num_received, num_invalid_entries, invalid_entry_samples).
        """
        audience = CustomAudience(audience_id, api=self.api)
        keys, rows, live = list(schema), [list(r) for r in data], dict(session) or None

        def send() -> Any:
            if op == "add":
                return audience.add_users(keys, rows, is_raw=True, pre_hashed=True, session=live)
            if op == "remove":
                return audience.remove_users(keys, rows, is_raw=True, pre_hashed=True, session=live)
            params = CustomAudience.format_params(keys, rows, is_raw=True, pre_hashed=True, session=live)
            return self.api.call("POST", (audience_id, "usersreplace"), params=params)

        return dict(self.call(f"{op} of {len(rows)} rows", send).json())
