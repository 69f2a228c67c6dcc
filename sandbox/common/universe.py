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
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

HASHED_KINDS = frozenset({"email", "phone"})
PLAIN_KINDS = frozenset({"crm", "mobile"})
SETTINGS = frozenset({"universe", "known_share"})  # the sandbox config keys ``from_settings`` reads
_SPACE = 16**8
_HEX64 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Universe:
    """The digests Google knows, and the share of all other digests it knows too (0.0..1.0).
    Raises ValueError for a digest that is not 64 lowercase hex or a share outside 0..1."""

    digests: frozenset[str] = frozenset()
    known_share: float = 0.0

    def __post_init__(self) -> None:
        if any(not _HEX64.fullmatch(value) for value in self.digests):
            raise ValueError("universe entries must be 64 lowercase hex characters (SHA-256)")
        if not 0.0 <= self.known_share <= 1.0:
            raise ValueError("known_share must be between 0 and 1")

    @classmethod
    def from_settings(cls, data: Mapping[str, Any]) -> Universe:
        """From a sandbox config's ``universe`` (list of digests) and ``known_share`` (number); both optional."""
        digests = data.get("universe", [])
        if isinstance(digests, str) or not all(isinstance(value, str) for value in digests):
            raise ValueError("universe must be a list of strings")
        return cls(frozenset(digests), float(data.get("known_share", 0.0)))

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
