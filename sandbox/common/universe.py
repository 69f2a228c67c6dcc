"""Whether "Google knows" a stored identifier: the Google sandboxes' match universe.

A universe is a set of SHA-256 hex digests and a known share. A stored identifier (``email:<hex>``,
``phone:<hex>``, ``crm:<id>``, ``mobile:<id>``; see the sandboxes' notation) is known when its digest is
in the set, or when its digest falls in the known share of all digests (its first 8 hex digits, read as
a fraction of 16^8, are below ``known_share``: a deterministic stand-in for "about that share of people
have a Google account", which the demo uses). Hashed kinds carry their digest; plain kinds (CRM ids,
mobile ids) are hashed here, so one universe configures every kind. Addresses never match (name +
postal matching is not emulated).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

HASHED_KINDS = frozenset({"email", "phone"})
PLAIN_KINDS = frozenset({"crm", "mobile"})
_SPACE = 16**8


@dataclass(frozen=True)
class Universe:
    """The digests Google knows, and the share of all other digests it knows too (0.0..1.0)."""

    digests: frozenset[str] = frozenset()
    known_share: float = 0.0

    def __bool__(self) -> bool:
        return bool(self.digests) or self.known_share > 0

    def knows(self, digest: str) -> bool:
        """Whether Google knows the person of one SHA-256 hex digest."""
        return digest in self.digests or int(digest[:8], 16) < self.known_share * _SPACE


def is_known(identifier: str, universe: Universe) -> bool:
    """Whether one stored identifier is known."""
    kind, _, value = identifier.partition(":")
    if kind in HASHED_KINDS:
        return universe.knows(value)
    if kind in PLAIN_KINDS:
        return universe.knows(hashlib.sha256(value.encode("utf-8")).hexdigest())
    return False


def any_known(identifiers: Iterable[str], universe: Universe) -> bool:
    """Whether one of a member's identifiers is known (the member "matched")."""
    return bool(universe) and any(is_known(identifier, universe) for identifier in identifiers)
