"""The HubSpot property destination: one engine batch of (member key, email) rows -> contact property values.

``send`` reads the batch's contacts by e-mail with the property's current values, computes each
contact's changes (``hubspot_properties.changes``: only this behavior's part changes) and writes
only the contacts that change, in batch updates of 100. Joiners without a contact are created
with ``create_missing_contacts``, else rejected as ``not_in_crm``; leavers without a contact need
nothing. Inputs HubSpot refuses (a value it or one of the portal's validation rules refuses: 207, or a
400 split down to the input) become rejections of their members, naming the property and what to check;
the rest of the batch is written. The property, its group
and the behavior's option are created on the first batch when missing (``ensure_property``).
Writes are idempotent per batch: a re-sent batch computes the same values.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import pyarrow as pa

from behavior_sync.destinations.hubspot import check_daily_budget, members_of
from behavior_sync.destinations.hubspot_client import HubSpotClient
from behavior_sync.destinations.hubspot_contacts import unmatched
from behavior_sync.destinations.hubspot_crm import update_contacts
from behavior_sync.destinations.hubspot_errors import Refusal
from behavior_sync.destinations.hubspot_properties import PropertySpec, changes, ensure_property
from behavior_sync.sync.execute import BatchContext
from behavior_sync.sync.ledger import BatchResult, Rejection
from behavior_sync.sync.plan import Batch, Capabilities

log = logging.getLogger(__name__)
Contacts = dict[str, tuple[str, dict[str, str]]]  # e-mail -> (contact id, current values of the read properties)


class HubSpotPropertyDestination:
    """Maintains one behavior's part of a contact property (implements ``Destination`` and ``Preflight``)."""

    def __init__(
        self, client: HubSpotClient, spec: PropertySpec, capabilities: Capabilities, create_missing: bool = False
    ) -> None:
        self.capabilities = capabilities
        self._client = client
        self._spec = spec
        self._create_missing = create_missing
        self._priorities: dict[str, int] | None = None

    def preflight(self, batches: Sequence[Batch]) -> None:
        """Raises ``HubSpotError`` (nothing sent) when the load may exceed the portal's daily budget left."""
        check_daily_budget(self._client, batches, self._create_missing)

    def send(self, rows: pa.Table, context: BatchContext) -> BatchResult:
        """Applies one batch; returns accepted rows and rejections. Raises ``HubSpotError``."""
        if self._priorities is None:
            self._priorities = ensure_property(self._client, self._spec)
        members = members_of(rows)
        contacts, rejections = self._contacts(members, context.op)
        writes = self._writes(contacts, context.op, self._priorities)
        refused = update_contacts(self._client, writes) if writes else {}
        by_id = {contacts[e][0]: k for k, e in members.items() if e in contacts}
        rejections += [Rejection(by_id[cid], "email", refusal.code, refusal.message("HubSpot refused the value"))
                       for cid, refusal in sorted(refused.items())]  # fmt: skip
        log.info("%s: %s batch %d: %d members, %d contacts written, %d rejected", self._client.label, context.op,
                 context.number, len(members), len(writes), len(rejections))  # fmt: skip
        return BatchResult(accepted=rows.num_rows - len(rejections), rejections=tuple(rejections))

    def _writes(self, contacts: Contacts, op: str, priorities: dict[str, int]) -> dict[str, dict[str, str]]:
        """Contact id -> the values to write, for the contacts whose values change."""
        values = {cid: changes(self._spec, op, current, priorities) for cid, current in contacts.values()}
        return {cid: value for cid, value in values.items() if value}

    def _contacts(self, members: dict[str, str], op: str) -> tuple[Contacts, list[Rejection]]:
        """(e-mail -> (contact id, current values)) for the batch, creating missing joiners when allowed; and
        the rejections of joiners left without a contact."""
        read = self._client.read_contacts(members.values(), self._spec.reads)
        found = {e: (v["hs_object_id"], v) for e, v in read.items()}
        missing = set(members.values()) - set(found)
        if op == "remove" or not missing:
            return found, []
        refused: dict[str, Refusal] = {}
        if self._create_missing:
            created, refused = self._client.upsert_contacts(missing)
            found |= {e: (cid, {}) for e, cid in created.items()}
        return found, [unmatched(k, refused.get(e)) for k, e in members.items() if e not in found]
