"""A Customer Match list's members, shared by both Google sandboxes (Google Ads API and Data Manager API).

A member is a frozenset of stored identifiers such as ``email:<hex>``, ``phone:<hex>``,
``address:<first>:<last>:<CC>:<zip>``, ``crm:<id>`` or ``mobile:<id>``, stored as uploaded: an identical
member uploaded again is stored once; members sharing an identifier stay separate members. Removing a
member drops every stored member sharing any identifier with it (the removal matches people by each of
its identifiers), so removing one of two members that share an e-mail takes both. Both are
O(identifiers) through an index. Not thread-safe: the store's lock is held around it.
"""

from __future__ import annotations

from collections.abc import Iterable

from sandbox.common.universe import Universe, any_known


class Membership:
    """The members of one list, each a frozenset of identifiers."""

    def __init__(self, members: Iterable[Iterable[str]] = ()) -> None:
        self._members: dict[int, frozenset[str]] = {}
        self._ids: dict[frozenset[str], int] = {}
        self._index: dict[str, set[int]] = {}
        self._next = 0
        for member in members:
            self.add(frozenset(member))

    def __len__(self) -> int:
        return len(self._members)

    def add(self, member: frozenset[str]) -> None:
        """Store ``member`` unless an identical member is stored (an empty one is ignored)."""
        if not member or member in self._ids:
            return
        self._next += 1
        self._members[self._next] = member
        self._ids[member] = self._next
        for identifier in member:
            self._index.setdefault(identifier, set()).add(self._next)

    def remove(self, member: frozenset[str]) -> int:
        """Drop every stored member sharing an identifier with ``member``; returns how many."""
        owners = self._owners(member)
        for key in owners:
            self._drop(key)
        return len(owners)

    def clear(self) -> None:
        """Drop every member."""
        self._members.clear()
        self._ids.clear()
        self._index.clear()

    def matched(self, universe: Universe) -> int:
        """Members with an identifier "Google knows" (``sandbox.common.universe``)."""
        return sum(1 for member in self._members.values() if is_matched(member, universe))

    def sorted_members(self) -> list[list[str]]:
        """Every member as a sorted list, in a stable order (inspection, state file)."""
        return sorted(sorted(member) for member in self._members.values())

    def _owners(self, member: frozenset[str]) -> set[int]:
        return {key for i in member for key in self._index.get(i, ())}

    def _drop(self, key: int) -> None:
        member = self._members.pop(key)
        del self._ids[member]
        for identifier in member:
            owners = self._index[identifier]
            owners.discard(key)
            if not owners:
                del self._index[identifier]


def is_matched(member: Iterable[str], universe: Universe) -> bool:
    """Whether Google knows one of ``member``'s identifiers."""
    return any_known(member, universe)
