"""``UserListService`` over REST: create, get and list user lists of an accessible account.

* ``POST /v1/accountTypes/{type}/accounts/{account}/userLists`` (body: the UserList; ``?validateOnly``)
* ``GET  /v1/accountTypes/{type}/accounts/{account}/userLists/{id}``
* ``GET  /v1/accountTypes/{type}/accounts/{account}/userLists?pageSize=&pageToken=``

Rules: ``displayName`` required and unique per account (409 ALREADY_EXISTS, UNCONFIRMED status);
``membershipDuration`` a whole number of days (documented: else INVALID_ARGUMENT) between 1 and 540
(Customer Match cap); ``membershipStatus`` OPEN (1) or CLOSED (2), default OPEN;
``ingestedUserListInfo.uploadKeyTypes`` required (the reference: "Required. Immutable") and, as the
Google Ads API says of Customer Match lists ("mixed data types are not allowed on the same list"),
exactly one of CONTACT_ID, MOBILE_ID, USER_ID (else UNSUPPORTED_USER_LIST_UPLOAD_KEY_TYPES; that a
Data Manager list refuses several is UNCONFIRMED); MOBILE_ID needs ``mobileIdInfo.appId`` and
``mobileIdInfo.keySpace`` (IOS or ANDROID), both documented as required.
Callers hold the store lock and have checked the account's access.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sandbox.google_data_manager import errors
from sandbox.google_data_manager.store import OPEN, Store, UserList
from sandbox.google_data_manager.validation import MOBILE_DATA, USER_DATA, USER_ID_DATA, enum_value

MAX_MEMBERSHIP_DAYS = 540
DEFAULT_MEMBERSHIP_DAYS = 540  # UNCONFIRMED default when the field is left out
DEFAULT_PAGE_SIZE = 100
_DURATION = re.compile(r"([0-9]+)(?:\.0+)?s")
# IngestedUserListInfo.UploadKeyType -> the audience member data a list of that type takes
UPLOAD_KEY_TYPES = {"CONTACT_ID": 1, "MOBILE_ID": 2, "USER_ID": 3}
DATA_OF_KEY_TYPE = {1: USER_DATA, 2: MOBILE_DATA, 3: USER_ID_DATA}
KEY_SPACES = {"IOS": 1, "ANDROID": 2}
_INFO = "user_list.ingested_user_list_info"


def create(store: Store, account: tuple[str, str], body: Any, validate_only: bool) -> dict[str, Any]:
    """Create a user list in ``account`` (type name, id); returns the resource (``{}`` when validate_only)."""
    if not isinstance(body, dict):
        raise errors.invalid_argument("INVALID_ARGUMENT", "the request body must be a UserList object")
    name = str(body.get("displayName", "")).strip()
    if not name:
        raise errors.field_error("user_list.display_name", "REQUIRED_FIELD_MISSING", "display name is required")
    if len(name) > 255:
        raise errors.field_error(
            "user_list.display_name", "INVALID_DISPLAY_NAME", "display name exceeds 255 characters"
        )
    if any(ul.display_name == name for ul in store.lists_of(account[1])):
        raise errors.already_exists("a user list with this display name already exists in the account")
    days = _membership_days(body.get("membershipDuration"))
    status = _membership_status(body.get("membershipStatus", OPEN))
    info = _upload_key_info(body.get("ingestedUserListInfo"))
    if validate_only:
        return {}
    user_list = UserList(
        account_type=account[0],
        account_id=account[1],
        list_id=store.new_list_id(),
        display_name=name,
        description=str(body.get("description", "")),
        membership_days=days,
        membership_status=status,
        info=info,
    )
    store.user_lists[(user_list.account_id, user_list.list_id)] = user_list
    return user_list.resource()


def get(store: Store, account_id: str, list_id: str) -> dict[str, Any]:
    """One user list; 404 NOT_FOUND when the account has no such list."""
    user_list = store.user_lists.get((account_id, list_id))
    if user_list is None:
        raise errors.not_found(f"user list {list_id[:32]} not found in account {account_id}")
    return user_list.resource()


def list_page(store: Store, account_id: str, query: Mapping[str, str]) -> dict[str, Any]:
    """A page of the account's user lists (``pageSize`` default 100, ``pageToken`` an offset); ``filter`` ignored."""
    try:
        size = int(query.get("pageSize") or DEFAULT_PAGE_SIZE)
        offset = int(query.get("pageToken") or 0)
    except ValueError:
        raise errors.invalid_argument("INVALID_PAGE_TOKEN", "pageSize and pageToken must be integers") from None
    if size < 1 or offset < 0:
        raise errors.invalid_argument("INVALID_PAGE_TOKEN", "pageSize must be >= 1 and pageToken >= 0")
    lists = store.lists_of(account_id)
    page: dict[str, Any] = {"userLists": [ul.resource() for ul in lists[offset : offset + size]]}
    if offset + size < len(lists):
        page["nextPageToken"] = str(offset + size)
    return page


def data_kind(user_list: UserList) -> str:
    """The audience member data (``userData``, ``mobileData``, ``userIdData``) a list takes, by its upload key
    type; lists stored before upload key types were checked take user data."""
    types = user_list.info.get("uploadKeyTypes") or ["CONTACT_ID"]
    return DATA_OF_KEY_TYPE.get(enum_value(types[0], UPLOAD_KEY_TYPES), USER_DATA)


def _upload_key_info(info: Any) -> dict[str, Any]:
    """``info`` when it names exactly one supported upload key type (with what it needs); else INVALID_ARGUMENT."""
    types = info.get("uploadKeyTypes") if isinstance(info, dict) else None
    if not isinstance(types, list) or not types:
        raise errors.field_error(f"{_INFO}.upload_key_types", "REQUIRED_FIELD_MISSING", "upload key types are required")
    key_types = [enum_value(value, UPLOAD_KEY_TYPES) for value in types]
    if len(key_types) != 1 or key_types[0] not in DATA_OF_KEY_TYPE:
        message = "a Customer Match list has exactly one upload key type: CONTACT_ID, MOBILE_ID or USER_ID"
        raise errors.field_error(f"{_INFO}.upload_key_types", "UNSUPPORTED_USER_LIST_UPLOAD_KEY_TYPES", message)
    if DATA_OF_KEY_TYPE[key_types[0]] != MOBILE_DATA:
        return dict(info)
    mobile = info.get("mobileIdInfo")
    mobile = mobile if isinstance(mobile, dict) else {}
    if not str(mobile.get("appId", "")).strip():
        raise errors.field_error(f"{_INFO}.mobile_id_info.app_id", "REQUIRED_FIELD_MISSING", "app id is required")
    if enum_value(mobile.get("keySpace", 0), KEY_SPACES) not in KEY_SPACES.values():
        message = "key space (IOS or ANDROID) is required"
        raise errors.field_error(f"{_INFO}.mobile_id_info.key_space", "REQUIRED_FIELD_MISSING", message)
    return dict(info)


def _membership_days(value: Any) -> int:
    if value is None:
        return DEFAULT_MEMBERSHIP_DAYS
    match = _DURATION.fullmatch(str(value))
    path = "user_list.membership_duration"
    if match is None or int(match.group(1)) % 86400:
        raise errors.field_error(path, "INVALID_ARGUMENT", "membership duration must be a whole number of days")
    days = int(match.group(1)) // 86400
    if not 1 <= days <= MAX_MEMBERSHIP_DAYS:
        message = f"membership duration must be between 1 and {MAX_MEMBERSHIP_DAYS} days, got {days}"
        raise errors.field_error(path, "INVALID_ARGUMENT", message)
    return days


def _membership_status(value: Any) -> int:
    status = {"OPEN": 1, "CLOSED": 2}.get(str(value), value)
    if status not in (1, 2) or isinstance(status, bool):
        raise errors.field_error(
            "user_list.membership_status", "INVALID_ENUM_VALUE", "membership status is OPEN or CLOSED"
        )
    return int(status)
