"""The HubSpot list destination: one engine batch of (member key, email) rows -> list membership changes.

``send`` (the engine's ``Destination`` verb) matches the batch's members to contact ids
(``hubspot_contacts.match_contacts``: cache, batch reads, optional creation) and changes the list:
add -> PUT memberships/add, remove -> PUT memberships/remove, replace (a full re-sync) -> the list
is emptied before its first batch, then filled. Membership changes are idempotent in HubSpot, so a
re-sent batch does no harm. Members without a contact are rejections (``not_in_crm``, or HubSpot's
code when it refused to create one), so they are retried next run and counted in history. A cached
contact id HubSpot reports missing is dropped and matched again once. A failure of the whole batch
raises ``HubSpotError``: the batch stays unacknowledged and is re-sent.

``preflight`` refuses a load whose worst-case request count exceeds what is left of the portal's
daily budget, before anything is sent, with the numbers.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass

import pyarrow as pa

from behavior_sync.destinations import AudienceReport, LoadKey
from behavior_sync.destinations.hubspot_access import daily_usage
from behavior_sync.destinations.hubspot_batch import MAX_BATCH_INPUTS
from behavior_sync.destinations.hubspot_client import HubSpotClient
from behavior_sync.destinations.hubspot_contacts import ContactCache, Matched, match_contacts
from behavior_sync.destinations.hubspot_errors import HubSpotError
from behavior_sync.destinations.hubspot_lists import ListSpec, resolve_list
from behavior_sync.statedb import StateDatabase
from behavior_sync.sync.execute import BatchContext
from behavior_sync.sync.ledger import BatchResult, Rejection
from behavior_sync.sync.objects import DestinationObjects
from behavior_sync.sync.plan import Batch, Capabilities

log = logging.getLogger(__name__)
SETUP_REQUESTS = 4  # daily usage, list lookup (recall or by name), create, report


@dataclass(frozen=True)
class HubSpotTarget:
    """Where a load goes: the list wanted, whose it is, and whether missing contacts are created."""

    spec: ListSpec
    key: LoadKey
    create_missing_contacts: bool = False


def requests_needed(batches: Sequence[Batch], create_missing: bool) -> int:
    """Worst-case requests of loading ``batches`` (no cached contact id): reads (and creations) of 100
    contacts, two writes per batch (a membership call and its retry for stale ids, or a property update
    and slack), plus the setup (budget, list or property lookup and creation, report)."""
    per_hundred = 2 if create_missing else 1
    calls = sum(math.ceil(b.members / MAX_BATCH_INPUTS) * (per_hundred if b.op != "remove" else 1) + 2 for b in batches)
    return calls + SETUP_REQUESTS


def check_daily_budget(client: HubSpotClient, batches: Sequence[Batch], create_missing: bool) -> None:
    """Raises ``HubSpotError`` when ``batches`` may need more requests (``requests_needed``) than the portal
    has left of its daily budget; nothing is sent then. No request when there is nothing to send; no check
    when HubSpot does not tell this credential its budget (``hubspot_access.daily_usage``)."""
    if not batches:
        return
    usage = daily_usage(client)
    needed = requests_needed(batches, create_missing)
    if usage is not None and needed > usage.remaining:
        raise HubSpotError(
            f"{client.label}: this load may need up to {needed} requests but portal {client.portal_id} has "
            f"{usage.remaining} of its {usage.limit} daily requests left (resets at {usage.resets_at}); nothing "
            "was sent: the next run after the reset sends it"
        )


def members_of(rows: pa.Table) -> dict[str, str]:
    """Member key -> e-mail of a batch of HubSpot rows (one ``email`` row per member)."""
    return dict(zip(rows.column("member_key").to_pylist(), rows.column("value").to_pylist(), strict=True))


class HubSpotListDestination:
    """Loads one behavior's plan into its HubSpot list (implements ``Destination``, ``Reporting``,
    ``Preflight``). Not thread-safe."""

    def __init__(
        self, client: HubSpotClient, db: StateDatabase, target: HubSpotTarget, capabilities: Capabilities
    ) -> None:
        self.capabilities = capabilities
        self._client = client
        self._objects = DestinationObjects(db)
        self._cache = ContactCache(db, client.portal_id)
        self._target = target
        self._list_id: str | None = None

    def preflight(self, batches: Sequence[Batch]) -> None:
        """Raises ``HubSpotError`` (nothing sent) when ``batches`` may need more requests than the portal has
        left today."""
        check_daily_budget(self._client, batches, self._target.create_missing_contacts)

    def send(self, rows: pa.Table, context: BatchContext) -> BatchResult:
        """Applies one batch; returns accepted rows and rejections. Raises ``HubSpotError``."""
        list_id = self._list(context.op)
        members = members_of(rows)
        if context.op == "replace" and context.number == 0:
            self._client.clear_list(list_id)
        rejections = self._remove(list_id, members) if context.op == "remove" else self._add(list_id, members)
        log.info("%s: %s batch %d: %d members, %d rejected", self._client.label, context.op, context.number,
                 len(members), len(rejections))  # fmt: skip
        return BatchResult(accepted=rows.num_rows - len(rejections), rejections=tuple(rejections))

    def report(self) -> AudienceReport | None:
        """The list's id, name, size and type as HubSpot reports them now; None (logged) when it cannot say."""
        try:
            found = self._client.get_list(self._list("report"))
        except HubSpotError as exc:
            log.warning("%s: no list report: %s", self._client.label, exc)
            return None
        kind = "static" if self._target.spec.static else "active"
        return AudienceReport(found.list_id, found.name, found.size, found.size, found.processing_type, kind)

    def _list(self, op: str) -> str:
        if self._list_id is None:
            target = self._target
            self._list_id = resolve_list(self._client, self._objects, target.key, target.spec, op).list_id
        return self._list_id

    def _add(self, list_id: str, members: dict[str, str]) -> list[Rejection]:
        create = self._target.create_missing_contacts
        matched = match_contacts(self._client, self._cache, members, create)
        if matched.created:
            log.info("%s: %d contacts created (create_missing_contacts)", self._client.label, matched.created)
        stale = self._change(list_id, "add", matched)
        if not stale:
            return list(matched.rejections)
        self._cache.forget(members[k] for k in stale)  # contacts deleted or merged since we cached them
        again = match_contacts(self._client, self._cache, {k: members[k] for k in stale}, create)
        still = self._change(list_id, "add", again)
        gone = [Rejection(k, "email", "not_in_crm", "HubSpot reports the contact missing") for k in sorted(still)]
        return list(matched.rejections) + list(again.rejections) + gone

    def _remove(self, list_id: str, members: dict[str, str]) -> list[Rejection]:
        """Members without a contact are not in the list: nothing to remove, accepted."""
        matched = match_contacts(self._client, self._cache, members, create_missing=False)
        stale = self._change(list_id, "remove", matched)
        self._cache.forget(members[k] for k in stale)
        return []

    def _change(self, list_id: str, op: str, matched: Matched) -> set[str]:
        """Adds or removes the matched contacts; returns the member keys whose contact HubSpot reports missing."""
        ids = sorted(set(matched.ids.values()))
        if not ids:
            return set()
        missing = self._client.change_members(list_id, op, ids)
        return {key for key, cid in matched.ids.items() if cid in missing}
