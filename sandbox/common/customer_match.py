"""A Customer Match list's members, shared by both Google sandboxes (Google Ads API and Data Manager API).

A member is one person: a frozenset of stored identifiers such as ``email:<hex>``, ``phone:<hex>``,
``address:<first>:<last>:<CC>:<zip>``, ``crm:<id>`` or ``mobile:<id>``. Adding a member merges it with
every stored member sharing an identifier (one person uploaded twice, or with one more identifier, stays
one person; a member that bridges two stored people makes them one). Removing a member drops every stored
member sharing any identifier with it. Both are O(identifiers) through an index.
Not thread-safe: the store's lock is held around it.
"""

from __future__ import annotations

from collections.abc import Iterable

from sandbox.common.universe import Universe, any_known


class Membership:
    """The members of one list, each a frozenset of identifiers."""

    def __init__(self, members: Iterable[Iterable[str]] = ()) -> None:
        self._members: dict[int, frozenset[str]] = {}
        self._index: dict[str, int] = {}
        self._next = 0
        for member in members:
            self.add(frozenset(member))

    def __len__(self) -> int:
        return len(self._members)

    def add(self, member: frozenset[str]) -> None:
        """Store ``member``, merged with every stored member sharing an identifier (an empty one is ignored)."""
        if not member:
            return
        merged = set(member)
        for key in self._owners(member):
            merged |= self._drop(key)
        self._next += 1
        self._members[self._next] = frozenset(merged)
        for identifier in merged:
            self._index[identifier] = self._next

    def remove(self, member: frozenset[str]) -> int:
        """Drop every stored member sharing an identifier with ``member``; returns how many."""
        owners = self._owners(member)
        for key in owners:
            self._drop(key)
        return len(owners)

    def clear(self) -> None:
        """Drop every member."""
        self._members.clear()
        self._index.clear()

    def matched(self, universe: Universe) -> int:
        """Members with an identifier "Google knows" (``sandbox.common.universe``)."""
        return sum(1 for member in self._members.values() if is_matched(member, universe))

    def sorted_members(self) -> list[list[str]]:
        """Every member as a sorted list, in a stable order (inspection, state file)."""
        return sorted(sorted(member) for member in self._members.values())

    def _owners(self, member: frozenset[str]) -> set[int]:
        return {self._index[i] for i in member if i in self._index}

    def _drop(self, key: int) -> frozenset[str]:
        member = self._members.pop(key)
        for identifier in member:
            del self._index[identifier]
        return member


def is_matched(member: Iterable[str], universe: Universe) -> bool:
    """Whether Google knows one of ``member``'s identifiers."""
    return any_known(member, universe)
