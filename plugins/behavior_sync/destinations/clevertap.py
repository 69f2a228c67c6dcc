"""The CleverTap destination: behavior membership on profiles, and exactly-once Entered / Exited events.

``send`` (the engine's ``Destination`` verb) turns one batch of whole members into at most two
uploads (``clevertap_records``): first the profile updates (membership property true on add, false
on remove), then, when the destination has ``events: true``, one ``Behavior Entered`` / ``Behavior
Exited`` event per member whose profile update CleverTap accepted.

Profile updates set a value, so re-sending them is harmless. Events are not idempotent and CleverTap
has no event id to deduplicate on, so a batch records its progress in the ledger around the event
upload (``BatchContext.mark``; docs/adr/0007-clevertap-exactly-once-events.md):

* ``events_sending`` just before the event upload, ``events_sent`` as soon as CleverTap answered;
* back to ``sending`` when CleverTap surely did not apply it (an HTTP error answer, no connection);
* a later attempt at a batch marked ``events_sent`` re-sends only the profiles; one marked
  ``events_sending`` (a crash, or an answer lost after the request left) does not re-send the
  events either: they may be in CleverTap already. They are logged as unconfirmed: an event is
  never sent twice; it is missing only if that one request never arrived.

Refused records become rejections with CleverTap's code: the member is retried next run (its event
was refused too, or never sent, so it is sent once then). Rows of members whose batch holds no
identity row (only a changed e-mail or phone of a member already in) carry nothing CleverTap can
address: they are acknowledged without a call, and logged as a count.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

import pyarrow as pa

from behavior_sync.destinations.clevertap_client import CleverTapClient
from behavior_sync.destinations.clevertap_errors import CleverTapDeliveryUnknown, CleverTapError
from behavior_sync.destinations.clevertap_records import (
    Member,
    Membership,
    event_record,
    members_of,
    profile_record,
    refused,
    rejections,
)
from behavior_sync.sync.execute import BatchContext
from behavior_sync.sync.ledger import SENDING, BatchResult, Rejection
from behavior_sync.sync.plan import Capabilities

log = logging.getLogger(__name__)

EVENTS_SENDING = "events_sending"
EVENTS_SENT = "events_sent"


class CleverTapDestination:
    """Loads one behavior's plan into a CleverTap account (implements ``Destination``)."""

    def __init__(
        self,
        client: CleverTapClient,
        membership: Membership,
        capabilities: Capabilities,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.capabilities = capabilities
        self._client = client
        self._membership = membership
        self._clock = clock

    def send(self, rows: pa.Table, context: BatchContext) -> BatchResult:
        """Applies one batch (add or remove); returns accepted rows and rejections. Raises ``CleverTapError``."""
        entering = context.op != "remove"
        members = members_of(rows)
        addressable = [m for m in members if m.identity is not None]
        profile_codes = self._profiles(addressable, entering)
        updated = [m for m in addressable if m.key not in profile_codes]
        rejected: list[Rejection] = rejections(members, profile_codes, "profile")
        event_codes = self._events(updated, entering, context, rejected) if self._membership.events else {}
        rejected += rejections(members, event_codes, "event")
        log.info(
            "%s: %s batch %d: %d members, %d without identity in the batch (nothing to send), %d profile and "
            "%d event records refused",
            self._client.label,
            context.op,
            context.number,
            len(members),
            len(members) - len(addressable),
            len(profile_codes),
            len(event_codes),
        )
        return BatchResult(accepted=rows.num_rows - len(rejected), rejections=tuple(rejected))

    def _profiles(self, members: Sequence[Member], entering: bool) -> dict[str, int]:
        """Uploads the membership updates (idempotent); member key -> code of those CleverTap refused."""
        if not members:
            return {}
        records = [profile_record(m, self._membership, entering) for m in members]
        return refused(self._client.upload(records, idempotent=True), members, "profile")

    def _events(
        self, members: Sequence[Member], entering: bool, context: BatchContext, refused_profiles: Sequence[Rejection]
    ) -> dict[str, int]:
        """Uploads the members' events unless an earlier attempt may have (see the module docstring). The stage
        marks carry the rows refused so far: a batch left in them is committed as applied minus those."""
        if not members or context.stage == EVENTS_SENT:
            return {}
        if context.stage == EVENTS_SENDING:
            log.warning(
                "%s: %s batch %d: an interrupted attempt was sending %d events; CleverTap may hold them, so they "
                "are not re-sent (never twice; unconfirmed)",
                self._client.label,
                context.op,
                context.number,
                len(members),
            )
            return {}
        ts = int(self._clock())
        records = [event_record(m, self._membership, entering, ts) for m in members]
        context.mark(EVENTS_SENDING, refused_profiles)
        try:
            answer = self._client.upload(records, idempotent=False)
        except CleverTapDeliveryUnknown:
            raise
        except CleverTapError:
            context.mark(SENDING, None)  # CleverTap answered with an error: nothing was applied
            raise
        codes = refused(answer, members, "event")
        context.mark(EVENTS_SENT, [*refused_profiles, *rejections(members, codes, "event")])
        return codes
