"""Data Manager audience members from a long-format batch, upload key types, and requests of at most N members.

A batch arrives as (member_key, id_type, value) rows of whole members, prepared by the identity core
with the Google rules (``identity.rules.GOOGLE_RULES``): ``email`` and ``phone`` are SHA-256 hex,
``address`` is ``given:family:REGION:POSTAL`` (names SHA-256 hex, region and postal code plain),
``crm_id`` is the advertiser's own user id and ``mobile_id`` a lower-case IDFA / AAID (neither is
hashed: Google takes them as they are).

A Customer Match list has one upload key type (Google: "mixed data types are not allowed on the same
list"), and so does each member: ``contact_info`` members become ``user_data`` with all their
identifiers (at most 10, Google's limit; the Google rules give at most three), ``crm_id`` members
``user_id_data`` (one id), ``mobile_id`` members ``mobile_data`` (at most 10 ids). Members keep
first-seen order.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pyarrow as pa
import pyarrow.compute as pc
from google.ads import datamanager_v1 as dm

from behavior_sync.identity.rules import GOOGLE_KEY_TYPES

CONTACT_INFO, CRM_ID, MOBILE_ID = "contact_info", "crm_id", "mobile_id"
_KEY_OF_ID_TYPE = {id_type: key for key, id_types in GOOGLE_KEY_TYPES.items() for id_type in id_types}
_DM_KEY_TYPES: dict[str, int] = {
    CONTACT_INFO: dm.IngestedUserListInfo.UploadKeyType.CONTACT_ID,
    CRM_ID: dm.IngestedUserListInfo.UploadKeyType.USER_ID,
    MOBILE_ID: dm.IngestedUserListInfo.UploadKeyType.MOBILE_ID,
}
MAX_MOBILE_IDS = 10  # per AudienceMember.mobile_data


def dm_upload_key_type(key_type: str) -> dm.IngestedUserListInfo.UploadKeyType:
    """The Data Manager ``UploadKeyType`` of an upload key type."""
    return dm.IngestedUserListInfo.UploadKeyType(_DM_KEY_TYPES[key_type])


def list_key_type(user_list: dm.UserList) -> str | None:
    """The upload key type of a Google list (None when Google does not say, or it is none of ours)."""
    types = list(user_list.ingested_user_list_info.upload_key_types)
    found = [key for key, value in _DM_KEY_TYPES.items() if value in types]
    return found[0] if len(found) == 1 and len(types) == 1 else None


def fits(id_types: pa.Array | pa.ChunkedArray, key_type: str) -> pa.Array | pa.ChunkedArray:
    """Boolean mask: which prepared rows a list of ``key_type`` can hold."""
    return pc.is_in(id_types, value_set=pa.array(GOOGLE_KEY_TYPES[key_type]))


def audience_members(rows: pa.Table) -> list[dm.AudienceMember]:
    """One ``AudienceMember`` per member of ``rows``. Raises ValueError (names types, never values) for an
    unknown identifier type or a member whose identifiers mix upload key types."""
    grouped: dict[str, list[tuple[str, str]]] = {}
    columns = (rows.column(name).to_pylist() for name in ("member_key", "id_type", "value"))
    for member, id_type, value in zip(*columns, strict=True):
        grouped.setdefault(member, []).append((id_type, value))
    return [audience_member(pairs) for pairs in grouped.values()]


def audience_member(pairs: Sequence[tuple[str, str]]) -> dm.AudienceMember:
    """The ``AudienceMember`` of one member's (id_type, value) rows (see the module docstring)."""
    unknown = sorted({id_type for id_type, _ in pairs} - set(_KEY_OF_ID_TYPE))
    if unknown:
        raise ValueError(f"identifier types {unknown} are not sent to Google Customer Match")
    kinds = {_KEY_OF_ID_TYPE[id_type] for id_type, _ in pairs}
    if len(kinds) != 1:
        raise ValueError(f"a member's identifiers mix upload key types {sorted(kinds)}: a list holds one")
    kind = kinds.pop()
    values = [value for _, value in pairs]
    if kind == CRM_ID:
        if len(values) != 1:
            raise ValueError(f"a member has {len(values)} CRM ids: Google takes one per member")
        return dm.AudienceMember(user_id_data=dm.UserIdData(user_id=values[0]))
    if kind == MOBILE_ID:
        if len(values) > MAX_MOBILE_IDS:
            raise ValueError(f"a member has {len(values)} mobile ids: Google takes at most {MAX_MOBILE_IDS}")
        return dm.AudienceMember(mobile_data=dm.MobileData(mobile_ids=values))
    identifiers = [user_identifier(id_type, value) for id_type, value in pairs]
    return dm.AudienceMember(user_data=dm.UserData(user_identifiers=identifiers))


def user_identifier(id_type: str, value: str) -> dm.UserIdentifier:
    """The ``UserIdentifier`` of one prepared contact-info row (``email``, ``phone``, ``address``)."""
    if id_type == "email":
        return dm.UserIdentifier(email_address=value)
    if id_type == "phone":
        return dm.UserIdentifier(phone_number=value)
    if id_type == "address":
        given, family, region, postal = value.split(":", 3)
        address = dm.AddressInfo(given_name=given, family_name=family, region_code=region, postal_code=postal)
        return dm.UserIdentifier(address=address)
    raise ValueError(f"identifier type {id_type!r} is not contact info")


def requests_of(members: Sequence[dm.AudienceMember], size: int) -> Iterator[Sequence[dm.AudienceMember]]:
    """Consecutive parts of ``members`` of at most ``size`` members each (``size`` >= 1)."""
    for start in range(0, len(members), size):
        yield members[start : start + size]
