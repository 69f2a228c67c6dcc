"""Data Manager audience members from a long-format batch, and requests of at most N members.

A batch arrives as (member_key, id_type, value) rows of whole members, prepared by the identity core
with the Google rules (``identity.rules.GOOGLE_RULES``): ``email`` and ``phone`` are SHA-256 hex,
``address`` is ``given:family:REGION:POSTAL`` (names SHA-256 hex, region and postal code plain). Each
member becomes one ``AudienceMember`` holding all its identifiers (at most 10 per member, Google's
limit; the Google rules give at most three). Members keep first-seen order.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pyarrow as pa
from google.ads import datamanager_v1 as dm

CONTACT_ID_TYPES = frozenset({"email", "phone", "address"})


def audience_members(rows: pa.Table) -> list[dm.AudienceMember]:
    """One ``AudienceMember`` per member of ``rows``. Raises ValueError for an identifier type the Data Manager
    path does not send yet (crm_id, mobile_id: names the type, never values)."""
    identifiers: dict[str, list[dm.UserIdentifier]] = {}
    columns = (rows.column(name).to_pylist() for name in ("member_key", "id_type", "value"))
    for member, id_type, value in zip(*columns, strict=True):
        identifiers.setdefault(member, []).append(user_identifier(id_type, value))
    return [dm.AudienceMember(user_data=dm.UserData(user_identifiers=ids)) for ids in identifiers.values()]


def user_identifier(id_type: str, value: str) -> dm.UserIdentifier:
    """The ``UserIdentifier`` of one prepared row."""
    if id_type == "email":
        return dm.UserIdentifier(email_address=value)
    if id_type == "phone":
        return dm.UserIdentifier(phone_number=value)
    if id_type == "address":
        given, family, region, postal = value.split(":", 3)
        address = dm.AddressInfo(given_name=given, family_name=family, region_code=region, postal_code=postal)
        return dm.UserIdentifier(address=address)
    raise ValueError(
        f"identifier type {id_type!r} is not sent through the Data Manager API yet (upload_keys: contact_info only)"
    )


def requests_of(members: Sequence[dm.AudienceMember], size: int) -> Iterator[Sequence[dm.AudienceMember]]:
    """Consecutive parts of ``members`` of at most ``size`` members each (``size`` >= 1)."""
    for start in range(0, len(members), size):
        yield members[start : start + size]
