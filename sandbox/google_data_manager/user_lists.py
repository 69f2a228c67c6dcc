"""``UserListService`` over REST: create, get and list user lists of an accessible account.

* ``POST /v1/accountTypes/{type}/accounts/{account}/userLists`` (body: the UserList; ``?validateOnly``)
* ``GET  /v1/accountTypes/{type}/accounts/{account}/userLists/{id}``
* ``GET  /v1/accountTypes/{type}/accounts/{account}/userLists?pageSize=&pageToken=``

Rules: ``displayName`` required and unique per account (409 ALREADY_EXISTS, UNCONFIRMED status);
``membershipDuration`` a whole number of days (documented: else INVALID_ARGUMENT) between 1 and 540
(Customer Match cap); ``membershipStatus`` OPEN (1) or CLOSED (2), default OPEN.
Callers hold the store lock and have checked the account's access.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sandbox.google_data_manager import errors
from sandbox.google_data_manager.store import OPEN, Store, UserList

MAX_MEMBERSHIP_DAYS = 540
DEFAULT_MEMBERSHIP_DAYS = 540  # UNCONFIRMED default when the field is left out
DEFAULT_PAGE_SIZE = 100
_DURATION = re.compile(r"([0-9]+)(?:\.0+)?s")


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
    if validate_only:
        return {}
    info = body.get("ingestedUserListInfo")
    user_list = UserList(
        account_type=account[0],
        account_id=account[1],
        list_id=store.new_list_id(),
        display_name=name,
        description=str(body.get("description", "")),
        membership_days=days,
        membership_status=status,
        info=info if isinstance(info, dict) else {},
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
