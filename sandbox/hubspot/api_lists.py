"""Lists v3 endpoints: create, get (by id, by name, several), search, delete, memberships.

Each takes the admitted ``Call`` and returns a ``Reply`` or raises ``HubSpotError``. A list of
another portal is "not found". Logs carry list ids and counts only.
"""

from __future__ import annotations

import logging
from typing import Any

from sandbox.hubspot.calls import Call, Reply, json_object, optional_int, string_field, string_list
from sandbox.hubspot.errors import already_exists, invalid_field, not_found, validation
from sandbox.hubspot.lists import MANUAL_TYPES, PROCESSING_TYPES, HubList, decode_cursor, page_members

logger = logging.getLogger(__name__)

CONTACT_OBJECT_TYPE = "0-1"
CREATE_FIELDS = ("objectTypeId", "processingType", "name", "customProperties", "listFolderId", "filterBranch")
SEARCH_FIELDS = ("listIds", "offset", "query", "count", "processingTypes", "additionalProperties", "sort")
MAX_PAGE = 250
MAX_SEARCH_COUNT = 500


def create_list(call: Call) -> Reply:
    """POST /crm/v3/lists/: 200 ``{"list": ...}``; 409 when the name is taken in the portal."""
    body = json_object(call.body(), CREATE_FIELDS, required=("objectTypeId", "processingType", "name"))
    name = string_field(body, "name")
    assert name is not None
    if body["objectTypeId"] != CONTACT_OBJECT_TYPE:
        raise invalid_field("objectTypeId", "(sandbox) only contact lists (objectTypeId 0-1) are emulated")
    if body["processingType"] not in PROCESSING_TYPES:
        raise invalid_field("processingType", f"processingType must be one of {', '.join(sorted(PROCESSING_TYPES))}")
    branch = body.get("filterBranch")
    if branch is not None and not isinstance(branch, dict):
        raise invalid_field("filterBranch", "filterBranch must be an object")
    if body.get("listFolderId") is not None:
        optional_int(body, "listFolderId", 0)
    if call.data.lists.by_name(name) is not None:
        raise already_exists(
            f"A list named '{name[:200]}' already exists in this account.", sub_category="LIST_NAME_EXISTS"
        )
    item = HubList(call.store.new_list_id(), name, CONTACT_OBJECT_TYPE, body["processingType"], call.now, call.now)
    item.filter_branch = branch
    call.data.lists.add_list(item)
    logger.info("list %s created in portal %s (%s)", item.list_id, call.portal.portal_id, item.processing_type)
    return Reply(200, {"list": item.to_api(include_filters=True)})


def get_list(call: Call) -> Reply:
    """GET /crm/v3/lists/{listId}?includeFilters=: 200 ``{"list": ...}`` or 404."""
    return Reply(200, {"list": _list(call).to_api(call.query_bool("includeFilters"))})


def get_list_by_name(call: Call) -> Reply:
    """GET /crm/v3/lists/object-type-id/{objectTypeId}/name/{listName} (name not case sensitive)."""
    item = call.data.lists.by_name(call.params["list_name"], call.params["object_type_id"])
    if item is None:
        raise not_found("List does not exist with the given name and object type.", sub_category="LIST_NOT_FOUND")
    return Reply(200, {"list": item.to_api(call.query_bool("includeFilters"))})


def get_lists(call: Call) -> Reply:
    """GET /crm/v3/lists/?listIds=..: the lists that exist among the ids, in the order asked."""
    found = (call.data.lists.get(list_id) for list_id in dict.fromkeys(call.query_list("listIds")))
    include = call.query_bool("includeFilters")
    return Reply(200, {"lists": [item.to_api(include) for item in found if item is not None]})


def search_lists(call: Call) -> Reply:
    """POST /crm/v3/lists/search: name substring ``query``, ``processingTypes``, ``listIds``; offset paging."""
    body = json_object(call.body(), SEARCH_FIELDS)
    offset, count = optional_int(body, "offset", 0), optional_int(body, "count", 20)
    if offset < 0 or not 1 <= count <= MAX_SEARCH_COUNT:
        raise invalid_field("count", f"count must be between 1 and {MAX_SEARCH_COUNT}, offset >= 0")
    query = str(body.get("query") or "").casefold()
    types = set(string_list(body.get("processingTypes", []), "processingTypes"))
    ids = set(string_list(body.get("listIds", []), "listIds"))
    matches = [
        item
        for item in call.data.lists
        if query in item.name.casefold()
        and (not types or item.processing_type in types)
        and (not ids or item.list_id in ids)
    ]
    page = matches[offset : offset + count]
    end = offset + len(page)
    lists = [item.to_search_api() for item in page]
    return Reply(200, {"lists": lists, "total": len(matches), "offset": end, "hasMore": end < len(matches)})


def delete_list(call: Call) -> Reply:
    """DELETE /crm/v3/lists/{listId}: 204; the name becomes free."""
    item = _list(call)
    call.data.lists.delete(item.list_id)
    logger.info("list %s deleted in portal %s", item.list_id, call.portal.portal_id)
    return Reply(204)


def add_members(call: Call) -> Reply:
    """PUT .../memberships/add, body a JSON array of record ids."""
    item = _manual_list(call)
    ids = _capped(string_list(call.body(), "body"), call)
    return _change(call, item, ids, [])


def remove_members(call: Call) -> Reply:
    """PUT .../memberships/remove, body a JSON array of record ids."""
    item = _manual_list(call)
    ids = _capped(string_list(call.body(), "body"), call)
    return _change(call, item, [], ids)


def add_and_remove_members(call: Call) -> Reply:
    """PUT .../memberships/add-and-remove ``{"recordIdsToAdd": [...], "recordIdsToRemove": [...]}``."""
    item = _manual_list(call)
    fields = ("recordIdsToAdd", "recordIdsToRemove")
    body = json_object(call.body(), fields, required=fields)
    to_add, to_remove = (string_list(body[key], key) for key in fields)
    if set(to_add) & set(to_remove):
        raise invalid_field("recordIdsToAdd", "a record id appears in both recordIdsToAdd and recordIdsToRemove")
    _capped([*to_add, *to_remove], call)
    return _change(call, item, to_add, to_remove)


def remove_all_members(call: Call) -> Reply:
    """DELETE /crm/v3/lists/{listId}/memberships: 204."""
    item = _manual_list(call)
    removed = len(item.members)
    item.members.clear()
    item.updated_at = call.now
    logger.info("memberships cleared list=%s removed=%d", item.list_id, removed)
    return Reply(204)


def member_page(call: Call) -> Reply:
    """GET .../memberships?limit=&after=&before=: record ids ascending (``before``: descending), limit <= 250."""
    item = _list(call)
    limit = call.query_int("limit", 100, 1, MAX_PAGE)
    cursors: dict[str, int | None] = {}
    for name in ("after", "before"):
        raw = call.request.query.get(name)
        cursors[name] = None if not raw else decode_cursor(raw)
        if raw and cursors[name] is None:
            raise invalid_field(name, f"{name} is not a valid paging cursor")
    return Reply(200, page_members(item, cursors["after"], cursors["before"], limit))


def _list(call: Call) -> HubList:
    item = call.data.lists.get(call.params["list_id"])
    if item is None:
        raise not_found(f"List {call.params['list_id'][:40]} does not exist.", sub_category="LIST_NOT_FOUND")
    return item


def _manual_list(call: Call) -> HubList:
    item = _list(call)
    if item.processing_type not in MANUAL_TYPES:
        raise validation(
            f"List {item.list_id} has processingType {item.processing_type}: memberships can only be changed "
            "for lists with processingType MANUAL or SNAPSHOT.",
            sub_category="LIST_PROCESSING_TYPE_NOT_SUPPORTED",
        )
    return item


def _capped(ids: list[str], call: Call) -> list[str]:
    limit = call.config.max_membership_ids
    if len(ids) > limit:
        raise invalid_field("body", f"{len(ids)} record ids in one call; the limit is {limit}")
    return ids


def _change(call: Call, item: HubList, to_add: list[str], to_remove: list[str]) -> Reply:
    contacts, members = call.data.contacts, item.members
    added, removed, missing = [], [], []
    for record_id in dict.fromkeys(to_add):
        if contacts.get(record_id) is None:
            missing.append(record_id)
        elif record_id not in members:
            members[record_id] = call.now
            added.append(record_id)
    for record_id in dict.fromkeys(to_remove):
        if contacts.get(record_id) is None:
            missing.append(record_id)
        elif members.pop(record_id, None) is not None:
            removed.append(record_id)
    if added or removed:
        item.updated_at = call.now
    logger.info(
        "memberships list=%s requested=%d added=%d removed=%d missing=%d",
        item.list_id,
        len(to_add) + len(to_remove),
        len(added),
        len(removed),
        len(missing),
    )
    return Reply(200, _membership_body(added, removed, missing))


def _membership_body(added: list[str], removed: list[str], missing: list[str]) -> dict[str, Any]:
    # The SDK model reads "recordsIdsAdded"; HubSpot's v3 reference example shows "recordIdsAdded": send both.
    return {"recordsIdsAdded": added, "recordIdsAdded": added, "recordIdsRemoved": removed, "recordIdsMissing": missing}
