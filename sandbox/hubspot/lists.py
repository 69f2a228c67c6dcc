"""Lists (ILS, Lists v3) of one portal and their memberships.

A list name is unique per portal, compared case-insensitively (HubSpot's get-by-name is not case
sensitive). Membership pages are ordered by record id, ascending (``after``) or descending
(``before``), with opaque cursors. Not thread-safe on its own (the store lock guards it).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from sandbox.hubspot.properties import iso

PROCESSING_TYPES = frozenset({"MANUAL", "SNAPSHOT", "DYNAMIC"})
MANUAL_TYPES = frozenset({"MANUAL", "SNAPSHOT"})


@dataclass
class HubList:
    """One list; ``members`` maps record id to the epoch seconds it joined."""

    list_id: str
    name: str
    object_type_id: str
    processing_type: str
    created_at: float
    updated_at: float
    list_version: int = 1
    filter_branch: dict[str, Any] | None = None
    members: dict[str, float] = field(default_factory=dict)

    def to_api(self, include_filters: bool = False) -> dict[str, Any]:
        """``PublicObjectList`` JSON (``filterBranch`` only when asked for and present)."""
        body: dict[str, Any] = {
            "listId": self.list_id,
            "name": self.name,
            "objectTypeId": self.object_type_id,
            "processingType": self.processing_type,
            "processingStatus": "COMPLETE",
            "listVersion": self.list_version,
            "size": len(self.members),
            "createdAt": iso(self.created_at),
            "updatedAt": iso(self.updated_at),
            "filtersUpdatedAt": iso(self.created_at),
        }
        if include_filters and self.filter_branch is not None:
            body["filterBranch"] = self.filter_branch
        return body

    def to_search_api(self) -> dict[str, Any]:
        """``PublicObjectListSearchResult`` JSON: the list fields plus ``additionalProperties``."""
        body = self.to_api()
        size = body.pop("size")
        return {**body, "additionalProperties": {"hs_list_size": str(size)}}

    def sorted_members(self) -> list[str]:
        """Member record ids in ascending numeric order."""
        return sorted(self.members, key=int)


def encode_cursor(record_id: str) -> str:
    """An opaque paging cursor for a record id."""
    return base64.urlsafe_b64encode(f"r:{record_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int | None:
    """The record id inside a cursor, or None when it is not one of ours."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return int(text[2:]) if text.startswith("r:") and text[2:].isdigit() else None


class ListBook:
    """The portal's lists, by id and by lower-cased name."""

    def __init__(self) -> None:
        self._lists: dict[str, HubList] = {}

    def __len__(self) -> int:
        return len(self._lists)

    def __iter__(self) -> Iterator[HubList]:
        return iter(sorted(self._lists.values(), key=lambda item: int(item.list_id)))

    def get(self, list_id: str) -> HubList | None:
        """The list with this id, or None."""
        return self._lists.get(list_id)

    def by_name(self, name: str, object_type_id: str | None = None) -> HubList | None:
        """The list with this name (case-insensitive), optionally of this object type."""
        wanted = name.casefold()
        for item in self._lists.values():
            if item.name.casefold() == wanted and object_type_id in (None, item.object_type_id):
                return item
        return None

    def add_list(self, item: HubList) -> None:
        """Store a new list; the caller checked that its name is free."""
        self._lists[item.list_id] = item

    def delete(self, list_id: str) -> None:
        """Forget a list (its name becomes free); raises ``KeyError`` when it does not exist."""
        del self._lists[list_id]

    def to_json(self) -> list[dict[str, Any]]:
        """Persisted form."""
        return [vars(item).copy() for item in self]

    def load_json(self, rows: Iterable[Mapping[str, Any]]) -> None:
        """Restore lists saved by ``to_json``."""
        for row in rows:
            item = HubList(**{**row, "members": {str(k): float(v) for k, v in row["members"].items()}})
            self._lists[item.list_id] = item


def page_members(item: HubList, after: int | None, before: int | None, limit: int) -> dict[str, Any]:
    """One ``ApiCollectionResponseJoinTimeAndRecordId`` page; ``after`` wins over ``before``.

    ``paging.next.after`` points past the page's highest id when higher ids exist, and
    ``paging.prev.before`` before its lowest id when lower ids exist, whatever the direction.
    """
    ids = item.sorted_members()
    if after is not None or before is None:
        chosen = [i for i in ids if after is None or int(i) > after][:limit]
    else:
        chosen = [i for i in reversed(ids) if int(i) < before][:limit]
    results = [{"recordId": i, "membershipTimestamp": iso(item.members[i])} for i in chosen]
    body: dict[str, Any] = {"results": results, "total": len(ids)}
    paging: dict[str, Any] = {}
    if chosen:
        highest, lowest = max(chosen, key=int), min(chosen, key=int)
        if highest != ids[-1]:
            paging["next"] = {"after": encode_cursor(highest)}
        if lowest != ids[0]:
            paging["prev"] = {"before": encode_cursor(lowest)}
    if paging:
        body["paging"] = paging
    return body
