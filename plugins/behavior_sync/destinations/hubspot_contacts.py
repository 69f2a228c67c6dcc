"""Members -> HubSpot contact ids: matched by e-mail through batch reads, cached in the state database.

HubSpot lists hold contact (record) ids, and the engine's HubSpot rows are (member key, ``email``,
plain lower-case e-mail). ``match_contacts`` looks each e-mail up in ``ContactCache`` first, reads
the misses in batches of 100 (``idProperty=email``), creates the still-missing ones only when the
destination says ``create_missing_contacts``, and reports the rest as ``not_in_crm`` rejections.

The cache (table ``bsync_hubspot_contact_ids``, owned by this module and created on first use) is
keyed by (portal id, SHA-256 of the e-mail): no e-mail is stored. A contact is matched by e-mail in
HubSpot, so the key is the e-mail, not the member key: a member who changes e-mail is looked up
again, and the removal of the old e-mail finds its contact in the cache at no request. A cached id
HubSpot no longer knows (contact deleted or merged) comes back as ``recordIdsMissing`` from a
membership call; the caller drops it (``forget``) and matches again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import sqlalchemy as sa

from behavior_sync.destinations.hubspot_client import HubSpotClient
from behavior_sync.destinations.hubspot_errors import Refusal
from behavior_sync.statedb import StateDatabase, now
from behavior_sync.sync.ledger import Rejection

NOT_IN_CRM = "not_in_crm"
_metadata = sa.MetaData()
contact_ids = sa.Table(
    "bsync_hubspot_contact_ids",
    _metadata,
    sa.Column("portal_id", sa.String(20), primary_key=True),
    sa.Column("email_hash", sa.String(64), primary_key=True),
    sa.Column("contact_id", sa.String(32), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)


def email_hash(email: str) -> str:
    """SHA-256 hex of an e-mail as the engine prepared it (plain, lower case)."""
    return hashlib.sha256(email.encode("utf-8")).hexdigest()


class ContactCache:
    """Contact ids of one portal by e-mail hash. Creating the table is idempotent and race-tolerant."""

    def __init__(self, db: StateDatabase, portal_id: str) -> None:
        self.db, self.portal_id = db, portal_id
        try:
            contact_ids.create(db.engine, checkfirst=True)
        except sa.exc.DBAPIError:  # another task created it between the check and the CREATE
            if not sa.inspect(db.engine).has_table(contact_ids.name):
                raise

    def lookup(self, emails: Iterable[str]) -> dict[str, str]:
        """Cached contact ids by e-mail for those of ``emails`` the cache holds."""
        by_hash = {email_hash(e): e for e in emails}
        query = sa.select(contact_ids.c.email_hash, contact_ids.c.contact_id).where(
            (contact_ids.c.portal_id == self.portal_id) & contact_ids.c.email_hash.in_(list(by_hash))
        )
        with self.db.engine.connect() as conn:
            return {by_hash[h]: str(cid) for h, cid in conn.execute(query)}

    def store(self, ids: Mapping[str, str]) -> None:
        """Remembers contact ids by e-mail (replacing older ones)."""
        if not ids:
            return
        hashes = {email_hash(e): i for e, i in ids.items()}
        rows = [{"portal_id": self.portal_id, "email_hash": h, "contact_id": i, "updated_at": now()}
                for h, i in hashes.items()]  # fmt: skip
        with self.db.engine.begin() as conn:
            conn.execute(self._where(list(hashes)))
            conn.execute(contact_ids.insert(), rows)

    def forget(self, emails: Iterable[str]) -> None:
        """Drops the cached ids of ``emails`` (HubSpot no longer knows them)."""
        with self.db.engine.begin() as conn:
            conn.execute(self._where([email_hash(e) for e in emails]))

    def _where(self, hashes: list[str]) -> sa.Delete:
        return sa.delete(contact_ids).where(
            (contact_ids.c.portal_id == self.portal_id) & contact_ids.c.email_hash.in_(hashes)
        )


@dataclass(frozen=True)
class Matched:
    """Contact ids by member key, the members left unmatched (rejections), and contacts created."""

    ids: dict[str, str]
    rejections: tuple[Rejection, ...]
    created: int = 0


def match_contacts(
    client: HubSpotClient, cache: ContactCache, members: Mapping[str, str], create_missing: bool
) -> Matched:
    """Contact ids for ``members`` (member key -> e-mail): cache, then batch reads, then creation if allowed.

    Unmatched members become rejections: ``not_in_crm``, or HubSpot's code when it refused to create
    one (e.g. ``INVALID_EMAIL``, or a portal validation rule). Rejection messages never hold the e-mail.
    """
    emails = set(members.values())
    known = cache.lookup(emails)
    missing = emails - set(known)
    found = client.contact_ids(missing) if missing else {}
    refused: dict[str, Refusal] = {}
    created: dict[str, str] = {}
    if create_missing and missing - set(found):
        created, refused = client.upsert_contacts(missing - set(found))
    cache.store(found | created)
    by_email = known | found | created
    ids = {key: by_email[email] for key, email in members.items() if email in by_email}
    rejections = tuple(unmatched(key, refused.get(email)) for key, email in members.items() if email not in by_email)
    return Matched(ids, rejections, len(created))


def unmatched(member_key: str, refusal: Refusal | None) -> Rejection:
    """The rejection of a member left without a contact: ``not_in_crm``, or HubSpot's refusal when it refused
    to create the contact (its code; the message names the property and what to check). Never the e-mail."""
    if refusal is None:
        return Rejection(
            member_key, "email", NOT_IN_CRM, "no HubSpot contact has this e-mail (create_missing_contacts is off)"
        )
    return Rejection(member_key, "email", refusal.code, refusal.message("HubSpot refused to create the contact"))
