"""An HTTP client for one CleverTap account's upload API (CleverTap publishes no Python server SDK).

It takes a ``requests.Session`` carrying the account's headers (``credential_headers``; in Airflow the
session comes from ``CleverTapHook``, built on the HTTP provider's ``HttpHook``) and the API base URL
(``api_base_url``: the region's host, or the local sandbox named by the connection's Host).

Every upload goes through ``CleverTapClient.upload``: at most ``max_concurrency`` requests per account
are in flight in this process (``AccountSlots``; CleverTap allows 15 uploads per account, the Airflow
pool bounds the workers); 429 is waited out with capped exponential backoff and jitter (CleverTap
sends no Retry-After) within the policy's throttle budget; 5xx and connection failures are retried
``attempts`` times; anything else raises ``CleverTapError`` naming the behavior and destination,
never the passcode or an identifier. A request that was sent but got no answer raises
``CleverTapDeliveryUnknown`` unless the caller says the request is idempotent (profiles are, events
are not): it is then never re-sent by the client.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

import requests
from urllib3.exceptions import NewConnectionError

from behavior_sync.destinations.clevertap_errors import (
    UNREACHABLE,
    CleverTapDeliveryUnknown,
    CleverTapError,
    classify,
)
from behavior_sync.destinations.endpoints import sandbox_base_url
from behavior_sync.destinations.retry import Action, ErrorRule, RetryPolicy, ThrottleBudget, backoff_seconds, jittered

log = logging.getLogger(__name__)

UPLOAD_PATH = "/1/upload"
PROFILE_PATH = "/1/profile.json"
MAX_CONCURRENT_READS = 3  # per account: CleverTap's limit of the non-upload APIs (Get User Profile included)
MAX_RECORDS = 1_000  # records per upload call
MAX_CONCURRENT_UPLOADS = 15  # per account (CleverTap's upload concurrency limit)
REGIONS = ("eu1", "in1", "sg1", "us1", "aps3", "mec1")


def region_hosts(region: str) -> frozenset[str]:
    """CleverTap's API hosts of a region: ``<region>.api.clevertap.com``, and ``api.clevertap.com`` for eu1."""
    return frozenset({f"{region}.api.clevertap.com"} | ({"api.clevertap.com"} if region == "eu1" else set()))


def api_base_url(host: str | None, region: str) -> str:
    """The API base URL: ``https://<region>.api.clevertap.com`` when ``host`` is empty or names one of the
    region's hosts (``region_hosts``), else the local sandbox URL (``endpoints.sandbox_base_url``, e.g.
    ``http://127.0.0.1:PORT/us1``). Raises ``CleverTapError`` for an unknown region or any other host
    (another region's host too: set the region instead).
    """
    if region not in REGIONS:
        raise CleverTapError(f"unknown CleverTap region {region!r}: one of {', '.join(REGIONS)}")
    try:
        url = sandbox_base_url(host, "CleverTap", region_hosts(region))
    except ValueError as exc:
        raise CleverTapError(str(exc)) from None
    return url or f"https://{region}.api.clevertap.com"


def credential_headers(account_id: str, passcode: str) -> dict[str, str]:
    """The headers every CleverTap call carries (the passcode: never log them)."""
    return {
        "X-CleverTap-Account-Id": account_id,
        "X-CleverTap-Passcode": passcode,
        "Content-Type": "application/json; charset=utf-8",
    }


class AccountSlots:
    """Per-process bound of in-flight requests per (base URL, account), shared by every client."""

    _slots: ClassVar[dict[tuple[str, str, int], threading.BoundedSemaphore]] = {}
    _lock: ClassVar[threading.Lock] = threading.Lock()

    @classmethod
    def of(cls, base_url: str, account_id: str, limit: int) -> threading.BoundedSemaphore:
        """The semaphore of an account (created on first use with ``limit`` slots)."""
        with cls._lock:
            return cls._slots.setdefault((base_url, account_id, limit), threading.BoundedSemaphore(limit))


class CleverTapClient:
    """Upload calls for one account. ``label`` names the behavior and destination in every error. Thread-safe."""

    def __init__(
        self,
        session: requests.Session,
        base_url: str,
        account_id: str,
        label: str,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        max_concurrency: int = MAX_CONCURRENT_UPLOADS,
    ) -> None:
        self.account_id = account_id
        self.label = label
        self.policy = policy or RetryPolicy()
        self._session = session
        self._url = f"{base_url}{UPLOAD_PATH}"
        self._profile_url = f"{base_url}{PROFILE_PATH}"
        self._read_slots = AccountSlots.of(f"{base_url}{PROFILE_PATH}", account_id, MAX_CONCURRENT_READS)
        self._sleep = sleep
        self._slots = AccountSlots.of(base_url, account_id, min(max_concurrency, MAX_CONCURRENT_UPLOADS))
        self._throttle = ThrottleBudget(self.policy)

    def upload(self, records: Sequence[Mapping[str, Any]], idempotent: bool) -> dict[str, Any]:
        """``POST /1/upload`` of 1..1,000 records; returns CleverTap's answer (HTTP 200: ``processed``,
        ``unprocessed``). Raises ``CleverTapError``, or ``CleverTapDeliveryUnknown`` (see the module docstring)."""
        if not 0 < len(records) <= MAX_RECORDS:
            raise ValueError(f"an upload holds 1 to {MAX_RECORDS} records ({len(records)} given)")
        body = json.dumps({"d": list(records)}, separators=(",", ":"))
        what = f"upload of {len(records)} records"
        attempt = 0
        while True:
            attempt += 1
            status, answer, rule = self._post(what, body, idempotent)
            if answer is not None:
                return answer
            self._sleep(self._delay(what, status, rule, attempt))

    def profile(self, identity: str) -> dict[str, Any] | None:
        """``GET /1/profile.json?identity=``: the profile's record, or None when CleverTap has no such profile
        (a ``fail`` status in an HTTP 200 answer). Retried and throttled like uploads (a read is idempotent);
        raises ``CleverTapError``."""
        attempt = 0
        while True:
            attempt += 1
            status, answer, rule = self._get_profile(identity)
            if answer is not None:
                record = answer.get("record")
                return dict(record) if answer.get("status") == "success" and isinstance(record, dict) else None
            self._sleep(self._delay("reading a profile", status, rule, attempt))

    def _get_profile(self, identity: str) -> tuple[int | None, dict[str, Any] | None, ErrorRule]:
        """One try: (status, answer when HTTP 200, rule for a failure)."""
        try:
            with self._read_slots:
                response = self._session.get(
                    self._profile_url, params={"identity": identity}, timeout=self.policy.timeout_seconds
                )
        except requests.RequestException:  # its text may hold the URL (and the identity): never shown
            return None, None, UNREACHABLE
        return _answer(response)

    def check_credentials(self) -> None:
        """Proves the account id, passcode and region without writing: an empty upload is refused as a bad
        request (400) once the credentials passed, as 401 before. Raises ``CleverTapError``."""
        status, _, rule = self._post("checking the credentials", json.dumps({"d": []}), idempotent=True)
        if status != 400:
            raise CleverTapError(f"{self.label}: checking the credentials: {rule.advice}", status)

    def _post(self, what: str, body: str, idempotent: bool) -> tuple[int | None, dict[str, Any] | None, ErrorRule]:
        """One try: (status, answer when HTTP 200, rule for a failure). Raises ``CleverTapDeliveryUnknown``."""
        try:
            with self._slots:
                response = self._session.post(self._url, data=body.encode("utf-8"), timeout=self.policy.timeout_seconds)
        except requests.RequestException as exc:  # its text may hold the URL: never shown
            if _maybe_delivered(exc) and not idempotent:
                raise CleverTapDeliveryUnknown(
                    f"{self.label}: {what}: sent, but CleverTap's answer was lost (timeout or dropped connection); "
                    "it may have been applied, so it is not re-sent"
                ) from None
            return None, None, UNREACHABLE
        return _answer(response)

    def _delay(self, what: str, status: int | None, rule: ErrorRule, attempt: int) -> float:
        """Seconds to wait before the next try, or raises ``CleverTapError``."""
        message = f"{self.label}: {what}: {rule.advice}"
        if rule.action is Action.FAIL:
            raise CleverTapError(message, status)
        delay = jittered(backoff_seconds(self.policy, attempt))
        if rule.action is Action.THROTTLE:
            if not self._throttle.spend(delay):
                raise CleverTapError(
                    f"{message} (beyond the task's throttle budget of {self._throttle.limit:.0f} s)", 429
                )
        elif attempt >= self.policy.attempts:
            raise CleverTapError(f"{message} (gave up after {attempt} attempts)", status)
        log.warning("%s: %s failed (HTTP %s); retrying in %.1f s", self.label, what, status, delay)
        return delay


def _answer(response: requests.Response) -> tuple[int, dict[str, Any] | None, ErrorRule]:
    """(status, the JSON answer of an HTTP 200, the rule of any other status)."""
    if response.status_code == 200:
        return 200, dict(response.json()), UNREACHABLE
    return response.status_code, None, classify(response.status_code)


def _maybe_delivered(exc: requests.RequestException) -> bool:
    """False when the request surely never reached CleverTap (no connection was made), else True."""
    if isinstance(exc, requests.ConnectTimeout):
        return False
    if isinstance(exc, requests.ConnectionError):
        reason = getattr(exc.args[0], "reason", None) if exc.args else None
        return not isinstance(reason, NewConnectionError)
    return True
