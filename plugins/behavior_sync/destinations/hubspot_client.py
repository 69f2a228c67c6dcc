"""A client around hubspot-api-client for one portal, with explicit credentials.

The secret is a bearer token: a Service Key (HubSpot's credential for system-to-system integrations), a
legacy private app's access token, or another access token HubSpot accepts. Every endpoint called here
serves all of them (the private-app-only ones live in ``hubspot_access``, with their fallbacks), and every
call is on the pinned date-based API version (``hubspot_api``).

Every request goes through ``HubSpotClient.call``: first the portal's client-side window
(``hubspot_throttle``), then the SDK; errors are classified by ``hubspot_errors``: transient ones
retry ``attempts`` times with backoff and jitter, 429s wait what HubSpot asks (``Retry-After``, else
the rolling window) within ``throttle_budget_seconds`` per client, everything else raises
``HubSpotError`` naming the behavior and destination, never the token or an e-mail address.
The SDK reaches a sandbox through ``host``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

import hubspot
import urllib3
from hubspot.crm.contacts import ApiException as ContactsApiException
from hubspot.crm.contacts.models import (
    BatchInputSimplePublicObjectBatchInputUpsert,
    BatchReadInputSimplePublicObjectId,
    SimplePublicObjectBatchInputUpsert,
    SimplePublicObjectId,
)
from hubspot.crm.lists import ApiException as ListsApiException
from hubspot.crm.lists.models import ListCreateRequest
from hubspot.crm.properties import ApiException as PropertiesApiException
from hubspot.marketing.emails import ApiException as EmailsApiException

from behavior_sync.destinations.endpoints import sandbox_base_url
from behavior_sync.destinations.hubspot_api import ACCOUNT_DETAILS_PATH, DatedApis
from behavior_sync.destinations.hubspot_batch import Sent, batched, chunks, refused_inputs
from behavior_sync.destinations.hubspot_errors import UNREACHABLE, Failure, HubSpotError, HubSpotNotFound, Refusal
from behavior_sync.destinations.hubspot_throttle import WINDOW_SECONDS, PortalWindow, window_for
from behavior_sync.destinations.retry import Action, RetryPolicy, ThrottleBudget, backoff_seconds, jittered

log = logging.getLogger(__name__)
T = TypeVar("T")
Answer = tuple[Any, Mapping[str, str]]  # (JSON answer or SDK model, the answer's headers)

CONTACTS = "0-1"  # HubSpot's objectTypeId of contacts


def api_base_url(host: str | None) -> str | None:
    """The API base URL from a connection's host: None (HubSpot's) when empty, else a local sandbox URL.

    Raises ``HubSpotError`` for any other host: only the sandbox may redirect the client (design §5).
    """
    try:
        return sandbox_base_url(host, "HubSpot")
    except ValueError as exc:
        raise HubSpotError(str(exc)) from None


@dataclass(frozen=True)
class HubSpotCredentials:
    """One portal's Service Key (or legacy private app token): never in ``repr``; tier sets the request budget."""

    access_token: str = field(repr=False)
    portal_id: str
    tier: str = "starter"
    base_url: str | None = None  # None: https://api.hubapi.com

    @classmethod
    def of_connection(
        cls, conn_id: str, extras: Mapping[str, Any], host: str | None, token: str | None
    ) -> HubSpotCredentials:
        """From a ``hubspot`` connection's validated extras, Host and Password. Raises ``HubSpotError`` (no
        secret, or a Host that is not a local sandbox)."""
        if not token:
            raise HubSpotError(
                f"connection {conn_id!r} has no Service Key: put the key (or a legacy private app token) in the "
                "Password field"
            )
        return cls(token, str(extras["portal_id"]), str(extras.get("account_tier") or "starter"), api_base_url(host))


@dataclass(frozen=True)
class ListInfo:
    """A HubSpot list as we use it: id, name, processing type (MANUAL, SNAPSHOT, DYNAMIC), size."""

    list_id: str
    name: str
    processing_type: str
    size: int


_API_ERRORS = (ListsApiException, ContactsApiException, PropertiesApiException, EmailsApiException)
_TRANSPORT_ERRORS = (urllib3.exceptions.HTTPError,)


class HubSpotClient:
    """HubSpot calls for one portal. ``label`` names the behavior and destination in every error."""

    def __init__(
        self,
        credentials: HubSpotCredentials,
        label: str,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        window: PortalWindow | None = None,
    ) -> None:
        self.portal_id = credentials.portal_id
        self.label = label
        self.policy = policy or RetryPolicy()
        self._sleep = sleep
        self._throttle = ThrottleBudget(self.policy)
        self._window = window or window_for(credentials.portal_id, credentials.tier)
        self.sdk = hubspot.Client.create(
            access_token=credentials.access_token, host=credentials.base_url, api_factory=DatedApis()
        )

    def call(self, what: str, request: Callable[[], tuple[T, Mapping[str, str]]]) -> T:
        """Runs ``request`` (returning data and headers) inside the window, with retries and 429 waits."""
        attempt = 0
        while True:
            attempt += 1
            self._window.acquire(self._sleep)
            try:
                data, headers = request()
                self._window.observe(headers)
                return data
            except _API_ERRORS as exc:
                self._window.observe(exc.headers)
                failure = Failure.of_body(exc.status, exc.body, exc.headers)
                rule = failure.rule()
            except _TRANSPORT_ERRORS:  # its text may hold the URL: never shown
                failure, rule = Failure(None, None), UNREACHABLE
            delay = self._delay(what, failure, rule.action, attempt)
            log.warning("%s: %s failed (HTTP %s, %s); retrying in %.1f s", self.label, what, failure.status,
                        failure.category, delay)  # fmt: skip
            if rule.action is Action.THROTTLE:
                self._window.pause(delay)  # every request of this process waits (in ``acquire``)
            else:
                self._sleep(delay)

    def _delay(self, what: str, failure: Failure, action: Action, attempt: int) -> float:
        """Seconds to wait before the next try, or raises ``HubSpotError`` when the call must not be retried."""
        message = f"{self.label}: {failure.describe(what)}"
        if action is Action.THROTTLE:
            delay = max(failure.retry_after, WINDOW_SECONDS if failure.category != "SECONDLY" else 1.0)
            if not self._throttle.spend(delay):
                raise HubSpotError(
                    f"{message} (beyond the task's throttle budget of {self._throttle.limit:.0f} s)",
                    failure.status,
                    failure.category,
                )
            return delay
        if action is Action.FAIL:
            kind = HubSpotNotFound if failure.status == 404 else HubSpotError
            raise kind(message, failure.status, failure.category, failure.code, failure.property)
        if attempt >= self.policy.attempts:
            raise HubSpotError(f"{message} (gave up after {attempt} attempts)", failure.status, failure.category)
        return jittered(backoff_seconds(self.policy, attempt))

    def sdk_call(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Answer:
        """Calls an SDK ``*_with_http_info`` method; (data, headers)."""
        data, _status, headers = method(*args, **kwargs, _request_timeout=self.policy.timeout_seconds)
        return data, headers

    def request(self, method: str, path: str, body: Any = None) -> Answer:
        """A request to an endpoint the SDK does not wrap (``path``: a dated path, see ``hubspot_api``) through the
        SDK's generated HTTP layer (its timeouts and errors); (JSON answer or None, headers). Use inside ``call``."""
        api_client = self.sdk.crm.lists.lists_api.api_client
        data, _status, headers = api_client.call_api(
            path, method, body=body, response_types_map={200: "object"}, auth_settings=["oauth2"],
            header_params={"Accept": "application/json"}, _request_timeout=self.policy.timeout_seconds,
        )  # fmt: skip
        return data, headers

    def account_details(self) -> tuple[dict[str, Any], Mapping[str, str]]:
        """The account details (portalId, accountType, timeZone...; any credential) and the answer's headers
        (HubSpot's ``X-HubSpot-RateLimit-*``)."""
        details, headers = self.call("reading the account details", lambda: _with_headers(self.request(
            "GET", ACCOUNT_DETAILS_PATH)))  # fmt: skip
        return dict(details or {}), headers

    def get_list(self, list_id: str) -> ListInfo:
        """The list; raises ``HubSpotNotFound`` when it is deleted or unknown."""
        api = self.sdk.crm.lists.lists_api
        answer = self.call("reading the list", lambda: self.sdk_call(api.get_by_id_with_http_info, list_id))
        return _list_info(answer.list)

    def find_list(self, name: str) -> ListInfo | None:
        """The portal's contact list named ``name`` (HubSpot compares names case-insensitively), or None."""
        api = self.sdk.crm.lists.lists_api
        try:
            answer = self.call("looking the list up by name", lambda: self.sdk_call(api.get_by_name_with_http_info,
                                                                                 name, CONTACTS))  # fmt: skip
        except HubSpotNotFound:
            return None
        return _list_info(answer.list)

    def create_list(self, name: str) -> ListInfo:
        """Creates a MANUAL contact list (members changed only by API or users)."""
        api = self.sdk.crm.lists.lists_api
        request = ListCreateRequest(object_type_id=CONTACTS, processing_type="MANUAL", name=name)
        answer = self.call("creating the list", lambda: self.sdk_call(api.create_with_http_info, request))
        return _list_info(answer.list)

    def change_members(self, list_id: str, op: str, record_ids: Sequence[str]) -> frozenset[str]:
        """Adds (``op`` add) or removes record ids; returns the ids HubSpot reports missing (not contacts).

        Idempotent: ids already members (add) or not members (remove) are ignored by HubSpot.
        """
        api = self.sdk.crm.lists.memberships_api
        method = api.add_with_http_info if op == "add" else api.remove_with_http_info
        ids = [str(i) for i in record_ids]
        answer = self.call(f"{op} of {len(ids)} list members", lambda: self.sdk_call(method, list_id, ids))
        return frozenset(str(i) for i in (answer.record_ids_missing or ()))

    def clear_list(self, list_id: str) -> None:
        """Removes every member of the list (a full re-sync starts from an empty list)."""
        api = self.sdk.crm.lists.memberships_api
        self.call("emptying the list", lambda: self.sdk_call(api.remove_all_with_http_info, list_id))

    def read_contacts(self, emails: Iterable[str], properties: Sequence[str] = ()) -> dict[str, dict[str, str]]:
        """Contacts HubSpot knows among ``emails``, by (lower-case) e-mail: ``hs_object_id`` plus the
        ``properties`` asked for ("" when unset). Batches of 100 (a 207 answer: some are unknown)."""
        api = self.sdk.crm.contacts.batch_api
        wanted = ["email", *properties]
        found: dict[str, dict[str, str]] = {}
        for part in chunks(sorted(set(emails))):
            inputs = [SimplePublicObjectId(id=e) for e in part]
            request = BatchReadInputSimplePublicObjectId(inputs=inputs, id_property="email", properties=wanted)
            answer = self.call(
                f"reading {len(part)} contacts", partial(self.sdk_call, api.read_with_http_info, request)
            )
            for contact in answer.results or ():
                values = contact.properties or {}
                found[str(values.get("email", "")).lower()] = {"hs_object_id": str(contact.id)} | {
                    p: str(values.get(p) or "") for p in properties
                }
        return found

    def contact_ids(self, emails: Iterable[str]) -> dict[str, str]:
        """Contact ids by (lower-case) e-mail for the e-mails HubSpot knows."""
        return {email: values["hs_object_id"] for email, values in self.read_contacts(emails).items()}

    def upsert_contacts(self, emails: Iterable[str]) -> tuple[dict[str, str], dict[str, Refusal]]:
        """Creates (or finds) contacts by e-mail; (ids by e-mail, HubSpot's refusal by e-mail refused).

        A 207 answer names the refused inputs; a batch refused whole (400) is split to find them.
        """
        api = self.sdk.crm.contacts.batch_api

        def send(part: Sequence[str]) -> Sent:
            inputs = [SimplePublicObjectBatchInputUpsert(id=e, id_property="email", properties={"email": e})
                      for e in part]  # fmt: skip
            request = BatchInputSimplePublicObjectBatchInputUpsert(inputs=inputs)
            answer = self.call(
                f"creating {len(part)} contacts", partial(self.sdk_call, api.upsert_with_http_info, request)
            )
            ids = {str(c.properties.get("email", "")).lower(): str(c.id) for c in answer.results or ()}
            return ids, refused_inputs(part, getattr(answer, "errors", None) or ())

        return batched(sorted(set(emails)), send)


def _with_headers(answer: Answer) -> tuple[Answer, Mapping[str, str]]:
    """An answer whose data keeps its headers (for ``call``, which hands back only the data)."""
    return answer, answer[1]


def _list_info(found: Any) -> ListInfo:
    return ListInfo(str(found.list_id), str(found.name), str(found.processing_type), int(found.size or 0))
