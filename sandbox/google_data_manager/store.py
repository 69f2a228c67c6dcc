"""What the sandbox holds: user lists (with members as hashed identifier sets) and ingestion requests.

Requests are processed asynchronously, as in the Data Manager API: an accepted ingest/remove/removeAll
is stored as an ``Operation`` and changes its user lists only once ``processing_delay_seconds`` have
passed on the sandbox clock (``settle``; a removeAll ``remove_all_delay_seconds`` later still, so Google's
order of processing can be played differently from the order of the requests). Until then its status is
PROCESSING.

A member is a set of identifier strings (see ``validation``). Ingesting a member stores it (once) and
notes when it was last added (the ingest request's arrival on the sandbox clock); removing one drops every
stored member sharing an identifier: the rules of ``sandbox.common.customer_match``, which the Google Ads
sandbox uses too. A removeAll drops the members last added before its ``removeAsOfTime`` (default: its
arrival), whenever it is processed, as the reference says: "only audience members last added before this
time will be removed".
Not thread-safe on its own: callers hold ``lock``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sandbox.common.customer_match import Membership
from sandbox.google_data_manager.diagnostics import DiagnosticsQueue

OPEN = 1
OWNED, ENABLED = 1, 1
INGEST, REMOVE, REMOVE_ALL = "ingest", "remove", "remove_all"


@dataclass
class UserList:
    """One user list of an account."""

    account_type: str
    account_id: str
    list_id: str
    display_name: str
    description: str
    membership_days: int
    membership_status: int = OPEN
    info: Mapping[str, Any] = field(default_factory=dict)
    members: Membership = field(default_factory=Membership)
    added: dict[frozenset[str], float] = field(default_factory=dict)  # member -> when it was last added

    def remove_added_before(self, as_of: float) -> None:
        """Drops the members last added before ``as_of`` (a removeAll); members without a time go too."""
        kept = [m for m in map(frozenset, self.members.sorted_members()) if self.added.get(m, -1.0) >= as_of]
        self.members = Membership(kept)
        self.added = {member: self.added[member] for member in kept}

    @property
    def name(self) -> str:
        """The resource name ``accountTypes/{type}/accounts/{account}/userLists/{id}``."""
        return f"accountTypes/{self.account_type}/accounts/{self.account_id}/userLists/{self.list_id}"

    def resource(self) -> dict[str, Any]:
        """The UserList resource JSON (camelCase, int64 as strings, enums as integers)."""
        size = str(len(self.members))
        resource: dict[str, Any] = {
            "name": self.name,
            "id": self.list_id,
            "readOnly": False,
            "displayName": self.display_name,
            "membershipStatus": self.membership_status,
            "membershipDuration": f"{self.membership_days * 86400}s",
            "accessReason": OWNED,
            "accountAccessStatus": ENABLED,
            "sizeInfo": {"displayNetworkMembersCount": size, "searchNetworkMembersCount": size},
        }
        if self.description:
            resource["description"] = self.description
        if self.info:
            resource["ingestedUserListInfo"] = dict(self.info)
        return resource


@dataclass
class Work:
    """What one operation does to one destination, and the counts its status reports."""

    echo: Mapping[str, Any]
    account_id: str
    list_id: str
    members: list[frozenset[str]]
    record_count: int
    identifier_count: int
    matched_count: int = 0
    denied_count: int = 0
    kind: str = "userData"  # the audience member data: userData, mobileData or userIdData
    error_counts: dict[str, int] = field(default_factory=dict)  # scripted ProcessingErrorReason -> records
    warning_counts: dict[str, int] = field(default_factory=dict)  # scripted ProcessingWarningReason -> records
    remove_as_of: float | None = None  # removeAll: members last added before this go (None: the arrival)

    @property
    def failed_count(self) -> int:
        """Records Google did not apply: denied consent and scripted errors."""
        return self.denied_count + sum(self.error_counts.values())


@dataclass
class Operation:
    """An accepted ingestion request: its id, kind, arrival time (sandbox clock) and per-destination work."""

    request_id: str
    kind: str
    created_at: float
    work: list[Work]
    applied: bool = False


class Store:
    """User lists by (account id, list id), operations by request id, and the diagnostics scripted for the next
    ingest requests (not persisted)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.user_lists: dict[tuple[str, str], UserList] = {}
        self.operations: dict[str, Operation] = {}
        self.diagnostics = DiagnosticsQueue()
        self._next_list_id = 9_000_000_001

    def new_list_id(self) -> str:
        """A fresh numeric user list id."""
        list_id = self._next_list_id
        self._next_list_id += 1
        return str(list_id)

    def lists_of(self, account_id: str) -> list[UserList]:
        """The user lists of an account, oldest first."""
        return [ul for (acc, _), ul in self.user_lists.items() if acc == account_id]

    def settle(self, now: float, delay: float, remove_all_delay: float = 0.0) -> int:
        """Apply every unapplied operation older than ``delay`` seconds (a removeAll: ``delay + remove_all_delay``),
        in arrival order; returns how many."""

        def due_at(op: Operation) -> float:
            return op.created_at + delay + (remove_all_delay if op.kind == REMOVE_ALL else 0.0)

        due = [op for op in self.operations.values() if not op.applied and due_at(op) <= now]
        for operation in due:
            for work in operation.work:
                self._apply(operation, work)
            operation.applied = True
        return len(due)

    def _apply(self, operation: Operation, work: Work) -> None:
        user_list = self.user_lists.get((work.account_id, work.list_id))
        if user_list is None:
            return
        if operation.kind == REMOVE_ALL:
            as_of = work.remove_as_of
            user_list.remove_added_before(operation.created_at if as_of is None else as_of)
        for member in work.members:
            if operation.kind == INGEST:
                user_list.members.add(member)
                user_list.added[member] = max(user_list.added.get(member, operation.created_at), operation.created_at)
            elif operation.kind == REMOVE:
                user_list.members.remove(member)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready snapshot for the state file."""
        lists = [
            {**_list_fields(ul), "members": ul.members.sorted_members(), "added": _added(ul)}
            for ul in self.user_lists.values()
        ]
        operations = [
            {
                "request_id": op.request_id,
                "kind": op.kind,
                "created_at": op.created_at,
                "applied": op.applied,
                "work": [
                    {**w.__dict__, "echo": dict(w.echo), "members": [sorted(m) for m in w.members]} for w in op.work
                ],
            }
            for op in self.operations.values()
        ]
        return {"next_list_id": self._next_list_id, "user_lists": lists, "operations": operations}

    def load_json(self, document: Mapping[str, Any]) -> None:
        """Replace the contents with a ``to_json`` snapshot."""
        self._next_list_id = int(document.get("next_list_id", self._next_list_id))
        self.user_lists = {}
        for item in document.get("user_lists", []):
            user_list = UserList(**{k: v for k, v in item.items() if k not in ("members", "added")})
            user_list.members = Membership(item.get("members", []))
            user_list.added = {frozenset(member): float(at) for member, at in item.get("added", [])}
            self.user_lists[(user_list.account_id, user_list.list_id)] = user_list
        self.operations = {}
        for item in document.get("operations", []):
            work = [Work(**{**w, "members": _sets(w["members"])}) for w in item["work"]]
            operation = Operation(item["request_id"], item["kind"], float(item["created_at"]), work, item["applied"])
            self.operations[operation.request_id] = operation


def _list_fields(user_list: UserList) -> dict[str, Any]:
    return {
        "account_type": user_list.account_type,
        "account_id": user_list.account_id,
        "list_id": user_list.list_id,
        "display_name": user_list.display_name,
        "description": user_list.description,
        "membership_days": user_list.membership_days,
        "membership_status": user_list.membership_status,
        "info": dict(user_list.info),
    }


def _added(user_list: UserList) -> list[list[Any]]:
    """The stored members' last-added times, ``[[sorted identifiers], time], ...`` (state file)."""
    return [[member, user_list.added[frozenset(member)]] for member in user_list.members.sorted_members()
            if frozenset(member) in user_list.added]  # fmt: skip


def _sets(rows: Iterable[Iterable[str]]) -> list[frozenset[str]]:
    return [frozenset(row) for row in rows]
