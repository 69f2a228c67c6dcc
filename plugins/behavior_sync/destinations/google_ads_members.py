"""Google Ads API messages from the Data Manager objects the destination works with, and back.

The destination builds Data Manager ``AudienceMember``s (``google_dm_members``) whichever API loads them;
for the Google Ads API each member becomes one ``OfflineUserDataJobOperation`` (``create`` or ``remove``)
whose ``UserIdentifier``s are its CRM id (``third_party_user_id``), its mobile ids (``mobile_id``) or its
contact info (``hashed_email``, ``hashed_phone_number``, ``address_info`` with hashed names and plain
country and postal code): at most 20 per member. Operations go in requests of at most N identifiers;
``user_list`` rows come back as Data Manager ``UserList``s (id, name, status, sizes, upload key type).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from google.ads import datamanager_v1 as dm

from behavior_sync.destinations.google_dm_members import CONTACT_INFO, CRM_ID, MOBILE_ID, dm_upload_key_type

MAX_IDENTIFIERS_PER_USER = 20  # per UserData
LIST_FIELDS = "user_list.id, user_list.name, user_list.membership_status, user_list.size_for_search, " + (
    "user_list.size_for_display, user_list.crm_based_user_list.upload_key_type"
)
# CustomerMatchUploadKeyType names of our upload key types
ADS_KEY_TYPES = {CONTACT_INFO: "CONTACT_INFO", CRM_ID: "CRM_ID", MOBILE_ID: "MOBILE_ADVERTISING_ID"}


def job_operation(ads: Any, kind: str, member: dm.AudienceMember) -> Any:
    """One ``create`` or ``remove`` operation (types of the ``GoogleAdsClient`` ``ads``) holding the member's
    identifiers. Raises ValueError when the member has more than Google's 20."""
    identifiers = user_identifiers(ads, member)
    if len(identifiers) > MAX_IDENTIFIERS_PER_USER:
        raise ValueError(f"a member has more than {MAX_IDENTIFIERS_PER_USER} identifiers")
    operation = ads.get_type("OfflineUserDataJobOperation")
    getattr(operation, kind).user_identifiers.extend(identifiers)
    return operation


def user_identifiers(ads: Any, member: dm.AudienceMember) -> list[Any]:
    """The Google Ads ``UserIdentifier``s of a Data Manager member: its CRM id, its mobile ids, or its contact info."""
    which = dm.AudienceMember.pb(member).WhichOneof("data")
    if which == "user_id_data":
        return [_identifier(ads, "third_party_user_id", member.user_id_data.user_id)]
    if which == "mobile_data":
        return [_identifier(ads, "mobile_id", value) for value in member.mobile_data.mobile_ids]
    return [_contact_identifier(ads, source) for source in member.user_data.user_identifiers]


def _identifier(ads: Any, field_name: str, value: str) -> Any:
    identifier = ads.get_type("UserIdentifier")
    setattr(identifier, field_name, value)
    return identifier


def _contact_identifier(ads: Any, source: dm.UserIdentifier) -> Any:
    """The Google Ads ``UserIdentifier`` of a Data Manager contact one (hashed e-mail, phone, or address)."""
    if source.email_address:
        return _identifier(ads, "hashed_email", source.email_address)
    if source.phone_number:
        return _identifier(ads, "hashed_phone_number", source.phone_number)
    identifier = ads.get_type("UserIdentifier")
    address = identifier.address_info
    address.hashed_first_name = source.address.given_name
    address.hashed_last_name = source.address.family_name
    address.country_code = source.address.region_code
    address.postal_code = source.address.postal_code
    return identifier


def requests_of(operations: Sequence[Any], limit: int) -> Iterator[list[Any]]:
    """Consecutive runs of ``operations`` holding at most ``limit`` identifiers each (one operation never splits)."""
    part: list[Any] = []
    held = 0
    for operation in operations:
        count = len(_user_data(operation).user_identifiers)
        if part and held + count > limit:
            yield part
            part, held = [], 0
        part.append(operation)
        held += count
    if part:
        yield part


def _user_data(operation: Any) -> Any:
    """The ``UserData`` of a create or remove operation."""
    return operation.create if "create" in operation else operation.remove


def as_user_list(row: Any) -> dm.UserList:
    """A Google Ads ``user_list`` row as the Data Manager ``UserList`` the destination and the wait step read."""
    status = row.membership_status.name
    wanted = row.crm_based_user_list.upload_key_type.name
    key_type = next((key for key, name in ADS_KEY_TYPES.items() if name == wanted), None)
    info = dm.IngestedUserListInfo(upload_key_types=[dm_upload_key_type(key_type)] if key_type else [])
    return dm.UserList(
        id=int(row.id),
        display_name=row.name,
        membership_status=status if status in ("OPEN", "CLOSED") else None,
        size_info={
            "search_network_members_count": int(row.size_for_search),
            "display_network_members_count": int(row.size_for_display),
        },
        ingested_user_list_info=info,
    )
