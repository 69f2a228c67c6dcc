"""CleverTap upload records for one engine batch, and CleverTap's per-record answers as row rejections.

A batch arrives as (member_key, id_type, value) rows of whole members, values plain and normalized by
the identity core (``identity.rules.CLEVERTAP_RULES``): ``identity`` (the behavior's e-mail or member
key, CleverTap's ``identity``), and optionally ``email`` / ``phone`` (standard keys ``Email`` /
``Phone``, written on entry only: they are the customer's contact details, not ours to unset).

**Membership form.** One boolean profile property per behavior, ``behavior_<slug>``: true on entry,
false on exit; a CleverTap segment "User property behavior_value_hunters equals true" holds the
members. A multi-value ``Behaviors`` property edited with ``$add``/``$remove`` was the alternative:
those operators are CleverTap's SDK-side wire syntax (Android SDK ``Constants.java``: ``$add``,
``$remove``, ``$set``, ``$delete``, ``$incr``, ``$decr``; SDK methods ``profileAddMultiValues`` /
``profileRemoveMultiValues``), but the server Upload User Profiles API documents ``profileData`` only
as key/value pairs (https://developer.clevertap.com/docs/upload-user-profiles-api, checked with the
search tool on the current and older revisions; no recorded answer shows operators on ``/1/upload``).
So they are UNCONFIRMED for the server API and not used; a boolean per behavior needs only documented
behaviour. Cost: one custom profile key per behavior (CleverTap allows 256 per account).

Events (optional): ``Behavior Entered`` / ``Behavior Exited`` with ``behavior`` (slug),
``behavior_name`` and ``destination`` properties, ``ts`` in epoch seconds.

CleverTap answers HTTP 200 with ``unprocessed`` entries: code, message and the record echoed (an
object, or a JSON string in older answers). They are matched to members by the echoed record's type
and identity (held in memory only) and become rejections of every row of the member, with
CleverTap's code and a message that never holds a value.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from behavior_sync.destinations.clevertap_errors import CleverTapError, record_message
from behavior_sync.sync.ledger import Rejection

CONTACT_KEYS = {"email": "Email", "phone": "Phone"}
ENTERED = "Behavior Entered"
EXITED = "Behavior Exited"


@dataclass(frozen=True)
class Member:
    """One member of a batch: key, CleverTap identity (None when the batch holds only its contact rows),
    contact details by standard key, and the id types of its rows in the batch."""

    key: str
    identity: str | None
    contacts: Mapping[str, str]
    id_types: tuple[str, ...]


@dataclass(frozen=True)
class Membership:
    """What a destination writes: the behavior's slug and name, the destination id, and whether events go too."""

    slug: str
    name: str
    destination_id: str
    events: bool

    @property
    def property_name(self) -> str:
        """The profile property holding membership (a custom key of at most 120 bytes)."""
        return f"behavior_{self.slug}"


def members_of(rows: pa.Table) -> list[Member]:
    """Groups long-format rows by member, in first-seen order. Raises ValueError for an unknown id_type."""
    grouped: dict[str, dict[str, str]] = {}
    for key, id_type, value in zip(
        *(rows.column(c).to_pylist() for c in ("member_key", "id_type", "value")), strict=True
    ):
        if id_type != "identity" and id_type not in CONTACT_KEYS:
            raise ValueError(f"identifier type {id_type!r} has no CleverTap field")
        grouped.setdefault(key, {})[id_type] = value
    return [
        Member(key, ids.get("identity"), {CONTACT_KEYS[t]: v for t, v in ids.items() if t in CONTACT_KEYS}, tuple(ids))
        for key, ids in grouped.items()
    ]


def profile_record(member: Member, membership: Membership, entering: bool) -> dict[str, Any]:
    """The member's profile update: membership true with its contact details on entry, false on exit."""
    data: dict[str, Any] = {membership.property_name: entering}
    if entering:
        data.update(member.contacts)
    return {"type": "profile", "identity": member.identity, "profileData": data}


def event_record(member: Member, membership: Membership, entering: bool, ts: int) -> dict[str, Any]:
    """The member's Behavior Entered / Exited event (``ts``: epoch seconds)."""
    return {
        "type": "event",
        "identity": member.identity,
        "ts": ts,
        "evtName": ENTERED if entering else EXITED,
        "evtData": {
            "behavior": membership.slug,
            "behavior_name": membership.name,
            "destination": membership.destination_id,
        },
    }


def refused(answer: Mapping[str, Any], members: Sequence[Member], kind: str) -> dict[str, int]:
    """Member key -> CleverTap code for each ``unprocessed`` entry of an upload of ``kind`` records for
    ``members``. Raises ``CleverTapError`` for an entry that names no record of the upload."""
    by_identity: dict[str, list[str]] = {}
    for member in members:
        by_identity.setdefault(str(member.identity), []).append(member.key)
    codes: dict[str, int] = {}
    for entry in answer.get("unprocessed") or ():
        record = _echo(entry.get("record"))
        keys = by_identity.get(str(record.get("identity"))) if record.get("type") == kind else None
        if not keys:
            raise CleverTapError(f"CleverTap refused a {kind} record (code {entry.get('code')}) without naming it")
        codes.update(dict.fromkeys(keys, int(entry.get("code") or 0)))
    return codes


def rejections(members: Sequence[Member], codes: Mapping[str, int], kind: str) -> list[Rejection]:
    """One rejection per row of each refused member (a profile or event is applied whole or not at all)."""
    return [
        Rejection(m.key, id_type, str(codes[m.key]), record_message(codes[m.key], kind))
        for m in members
        if m.key in codes
        for id_type in m.id_types
    ]


def _echo(record: Any) -> dict[str, Any]:
    """The echoed record as a dict (CleverTap echoes an object, or a JSON string in older answers)."""
    if isinstance(record, str):
        try:
            record = json.loads(record)
        except ValueError:
            return {}
    return record if isinstance(record, dict) else {}
