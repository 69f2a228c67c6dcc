"""Google Customer Match through the Data Manager API (or the Google Ads API): one engine batch -> requests.

The API is the client's (``UserListClient``): ``DataManagerClient`` sends Data Manager requests,
``google_ads_client.GoogleAdsApiClient`` one OfflineUserDataJob per request (its resource name is the id).

``send`` (the engine's ``Destination`` verb) turns a batch into audience members (``google_dm_members``)
and sends them in requests of at most ``members_per_request`` (Google's cap: 10,000): an add batch
only as ``audienceMembers:ingest``, a remove batch only as ``audienceMembers:remove``, so removes and
adds never share a request. Google validates a request whole before answering (fast fail): an
accepted request acknowledges all its rows; Google applies them later, asynchronously, and the
request ids of each batch go to the ``RequestLog`` for the wait step. Both calls are idempotent, so a
retried batch is simply sent again. Failures raise ``GoogleAdsError``: the batch stays unacknowledged.

A full re-sync through the Data Manager API is a ``replace`` plan (``Capabilities.supports_replace``):
its first batch first sends ``audienceMembers:removeAll`` with ``remove_as_of_time`` T, taken just before
(Google: "only audience members last added before this time will be removed"), then every replace batch
ingests. Whatever order Google processes them in, the list ends with exactly the re-sent members; until
it has processed the re-ingest it may hold fewer (docs/adr/0019). From the remove-all until the last
replace batch is accepted, the list is marked emptied (``EMPTIED``, in ``DestinationObjects``): a run
that is not a full re-sync (``preflight``, even with nothing to send, and each batch) refuses to load a list
whose content the committed state no longer describes.
The wait step marks it again when Google fails a request of a full re-sync. A removeAll retried (the
batch's ingest failed) takes a new T: nothing of this plan was accepted before it.

The user list: the one remembered in the state database (``DestinationObjects``, kind ``user_list``),
else the account's list named like the ``audience_name`` template, else a new one with the
destination's membership duration and upload key type (contact info, CRM id, or mobile id with its
app: a list holds one type). When the list that held the committed members is gone, or holds another
upload key type than the destination's now, only a full re-sync may fill a new one (a delta would
leave it incomplete), as for Meta. A remove of identifiers that the list's upload key type cannot
hold (left in the state by an earlier ``upload_keys``) is acknowledged without a request: the list
never held them.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import pyarrow as pa
from google.ads import datamanager_v1 as dm

from behavior_sync.destinations import AudienceReport
from behavior_sync.destinations.google_dm_client import MAX_MEMBERS_PER_REQUEST
from behavior_sync.destinations.google_dm_errors import GoogleAdsError
from behavior_sync.destinations.google_dm_members import audience_members, fits, list_key_type, requests_of
from behavior_sync.destinations.google_dm_status import RequestLog, SentRequest, list_size
from behavior_sync.destinations.meta_audience import LoadKey
from behavior_sync.identity.rules import google_key_type
from behavior_sync.naming import render_name
from behavior_sync.sync.execute import BatchContext
from behavior_sync.sync.ledger import BatchResult
from behavior_sync.sync.objects import DestinationObjects, StoredObject
from behavior_sync.sync.plan import Batch, Capabilities

log = logging.getLogger(__name__)
KIND = "user_list"
EMPTIED = "user_list_emptied"  # the list a full re-sync emptied and has not refilled yet (the list's StoredObject)
REMOVE_AS_OF_MARGIN_SECONDS = 1.0  # T is this much before now: a clock a little ahead of Google's is no error


class UserListClient(Protocol):
    """What the destination needs of an API client: ``DataManagerClient`` (Data Manager API) or
    ``GoogleAdsApiClient`` (Google Ads API, which answers Data Manager ``UserList`` objects too).
    ``ingest``/``remove`` send one request (or job) and answer its id for the request log; every method
    raises ``GoogleAdsError`` with what to do."""

    account_id: str
    label: str

    def check_access(self) -> int:
        """Reads the account's user lists (proves the credentials); how many."""

    def get_user_list(self, list_id: str) -> dm.UserList | None:
        """The account's list ``list_id``, or None."""

    def find_user_list(self, display_name: str) -> dm.UserList | None:
        """The account's list named ``display_name``, or None."""

    def create_user_list(self, spec: UserListSpec) -> dm.UserList:
        """A new open Customer Match list as ``spec`` says (name, description, duration, upload key type)."""

    def ingest(self, list_id: str, members: Sequence[dm.AudienceMember]) -> SentRequest:
        """Adds ``members``; the request or job id, with what it carried."""

    def remove(self, list_id: str, members: Sequence[dm.AudienceMember]) -> SentRequest:
        """Removes ``members``; the request or job id, with what it carried."""


@runtime_checkable
class ListClearing(Protocol):
    """A client that can empty a list (the Data Manager API's RemoveAllAudienceMembers)."""

    def remove_all(self, list_id: str, as_of: dt.datetime) -> SentRequest:
        """Removes the members last added before ``as_of``; the request id."""


@dataclass(frozen=True)
class UserListSpec:
    """The list a destination wants: name (template rendered), description, membership duration (days), upload
    key type (``contact_info``, ``crm_id``, ``mobile_id``) and, for mobile ids, the app they come from."""

    name: str
    description: str
    membership_days: int
    key_type: str = "contact_info"
    app_id: str = ""

    @classmethod
    def from_settings(
        cls, settings: Any, behavior_name: str, slug: str, description: str, day: dt.date
    ) -> UserListSpec:
        """From a google_ads destination's settings (``audience_name``, ``audience_description``,
        ``membership_days`` 30..540, default 180, ``upload_keys``, ``app_id``). Raises GoogleAdsError for a bad
        template, duration or upload keys."""
        try:
            name = render_name(str(settings.get("audience_name") or "[Behavior] - {name}"), behavior_name, slug, day)
        except ValueError as exc:
            raise GoogleAdsError(f"audience_name: {exc}") from None
        days = int(settings.get("membership_days") or 180)
        if not 30 <= days <= 540:
            raise GoogleAdsError(f"membership_days must be between 30 and 540 (Customer Match), not {days}")
        text = str(settings.get("audience_description") or description.strip() or behavior_name)
        try:
            key_type = google_key_type(settings.get("upload_keys") or ["contact_info"])
        except ValueError as exc:
            raise GoogleAdsError(str(exc)) from None
        app_id = str(settings.get("app_id") or "")
        if key_type == "mobile_id" and not app_id:
            raise GoogleAdsError(
                "upload_keys mobile_id needs app_id (iOS: the App Store id; Android: the package name)"
            )
        return cls(name, text[:500], days, key_type, app_id if key_type == "mobile_id" else "")


@dataclass(frozen=True)
class GoogleTarget:
    """Where a load goes: the list wanted, whose it is, whether this run re-sends every member, where the
    request ids go, how many members one request carries (1..10,000), and the clock (epoch seconds) a full
    re-sync's remove-all time is read from."""

    spec: UserListSpec
    key: LoadKey
    full_resync: bool
    requests: RequestLog
    members_per_request: int = MAX_MEMBERS_PER_REQUEST
    clock: Callable[[], float] = time.time


class GoogleDataManagerDestination:
    """Loads one behavior's plan into its Customer Match list (implements ``Destination``, ``Preflight`` and
    ``Reporting``)."""

    def __init__(
        self, client: UserListClient, objects: DestinationObjects, target: GoogleTarget, capabilities: Capabilities
    ) -> None:
        if not 1 <= target.members_per_request <= MAX_MEMBERS_PER_REQUEST:
            raise GoogleAdsError(f"members_per_request must be 1..{MAX_MEMBERS_PER_REQUEST}")
        self.capabilities = capabilities
        self._client = client
        self._objects = objects
        self._target = target
        self._list_id: str | None = None

    def send(self, rows: pa.Table, context: BatchContext) -> BatchResult:
        """Sends one batch (add: ingest, remove: remove, replace: ingest, after a remove-all for the first) and
        records its request ids with their member counts. Raises GoogleAdsError."""
        if context.op not in ("add", "remove", "replace"):
            raise GoogleAdsError(f"{self._client.label}: Google Customer Match has no {context.op!r} operation")
        if context.op != "replace":
            self._refuse_emptied()
        list_id = self.list_id()
        sendable = rows.filter(fits(rows.column("id_type"), self._target.spec.key_type))
        if sendable.num_rows < rows.num_rows and context.op != "remove":
            raise GoogleAdsError(
                f"{self._client.label}: the batch holds identifiers that a {self._target.spec.key_type} list cannot "
                "take: this is a Behavior Sync bug, report it with the task log"
            )
        try:
            members = audience_members(sendable)
        except ValueError as exc:
            raise GoogleAdsError(f"{self._client.label}: {exc}") from None
        sent = self._remove_all(list_id) if context.op == "replace" and context.number == 0 else []
        call = self._client.remove if context.op == "remove" else self._client.ingest
        sent += [call(list_id, part) for part in requests_of(members, self._target.members_per_request)]
        self._target.requests.write(context.op, context.number, sent)
        if context.op == "replace" and context.is_last:
            self._objects.forget(self._target.key.behavior, self._target.key.destination_id, EMPTIED)
        log.info(
            "%s: %s batch %d: %d members in %d requests (%d rows the list cannot hold acknowledged)",
            self._client.label, context.op, context.number, len(members), len(sent),
            rows.num_rows - sendable.num_rows,
        )  # fmt: skip
        return BatchResult(accepted=rows.num_rows)

    def _remove_all(self, list_id: str) -> list[SentRequest]:
        """A full re-sync's first step: RemoveAllAudienceMembers as of just before now, the list marked emptied
        first (module docstring); the request. Raises GoogleAdsError when the client cannot empty a list."""
        if not isinstance(self._client, ListClearing):
            raise GoogleAdsError(
                f"{self._client.label}: this API cannot empty a list, so a full re-sync cannot replace its members: "
                "this is a Behavior Sync bug (replace is the Data Manager API's), report it with the task log"
            )
        key = self._target.key
        mark_emptied(self._objects, key.behavior, key.destination_id)
        as_of = dt.datetime.fromtimestamp(self._target.clock() - REMOVE_AS_OF_MARGIN_SECONDS, dt.UTC)
        log.info("%s: full re-sync: removing every member last added before %s", self._client.label, as_of)
        return [self._client.remove_all(list_id, as_of)]

    def preflight(self, batches: Sequence[Batch]) -> None:
        """Before a load (``Preflight``): unless it is a full re-sync, raises GoogleAdsError when a full re-sync
        emptied the list and did not refill it, even when there is nothing to send (module docstring)."""
        if not any(batch.op == "replace" for batch in batches):
            self._refuse_emptied()

    def _refuse_emptied(self) -> None:
        """Raises GoogleAdsError when a full re-sync emptied the list and did not refill it (module docstring)."""
        key = self._target.key
        emptied = self._objects.recall(key.behavior, key.destination_id, EMPTIED)
        if emptied is None:
            return
        raise GoogleAdsError(
            f"{self._client.label}: a full re-sync emptied the user list {emptied.object_id} "
            "(RemoveAllAudienceMembers) and did not finish, or Google failed part of its re-ingest, so the list no "
            f"longer holds what the committed state says; only a full re-sync may load it now: {key.resync_command()}"
        )

    def report(self) -> AudienceReport | None:
        """The list's name and size as Google reports it now (sizes lag processing); None (logged) when
        Google cannot say: a load that worked is not failed by its report."""
        try:
            user_list = self._client.get_user_list(self.list_id())
        except GoogleAdsError as exc:
            log.warning("%s: no user list report: %s", self._client.label, exc)
            return None
        if user_list is None:
            return None
        size = list_size(user_list)
        status = user_list.membership_status.name if user_list.membership_status else ""
        return AudienceReport(
            size.list_id, size.name, min(size.search, size.display), max(size.search, size.display), status, ""
        )

    def list_id(self) -> str:
        """The user list to load into (see the module docstring); remembered once settled. Raises GoogleAdsError."""
        if self._list_id is None:
            self._list_id = self._resolve()
        return self._list_id

    def _resolve(self) -> str:
        client, key, spec = self._client, self._target.key, self._target.spec
        stored = self._objects.recall(key.behavior, key.destination_id, KIND)
        if stored is not None and self._still_fits(stored):
            return stored.object_id
        if stored is not None:
            self._objects.forget(key.behavior, key.destination_id, KIND)
        found = client.find_user_list(spec.name)
        if found is not None and list_key_type(found) not in (None, spec.key_type):
            raise GoogleAdsError(
                f"{client.label}: the account's list {spec.name!r} ({found.id}) matches on {list_key_type(found)}, "
                f"but this destination uploads {spec.key_type}; a list holds one upload key type, so give this "
                "destination its own audience_name"
            )
        user_list = found or client.create_user_list(spec)
        if (stored is not None or key.has_committed_members) and not self._target.full_resync:
            raise GoogleAdsError(
                f"{client.label}: the user list synced before is gone (deleted in Google Ads, the connection now "
                f"names another account, or upload_keys changed); list {user_list.id} ({spec.name!r}) does not hold "
                f"those members, so only a full re-sync may fill it: {key.resync_command()}"
            )
        stored_now = StoredObject(str(user_list.id), spec.name, client.account_id)
        self._objects.remember(key.behavior, key.destination_id, KIND, stored_now)
        return str(user_list.id)

    def _still_fits(self, stored: StoredObject) -> bool:
        """Whether the remembered list is still this account's and of the destination's upload key type."""
        if stored.account != self._client.account_id:
            return False
        user_list = self._client.get_user_list(stored.object_id)
        return user_list is not None and list_key_type(user_list) in (None, self._target.spec.key_type)


def mark_emptied(objects: DestinationObjects, behavior: str, destination_id: str) -> None:
    """Notes that a full re-sync emptied the destination's remembered list and has not refilled it (nothing
    when no list is remembered); only a full re-sync clears the note (see the module docstring)."""
    stored = objects.recall(behavior, destination_id, KIND)
    if stored is not None:
        objects.remember(behavior, destination_id, EMPTIED, stored)
