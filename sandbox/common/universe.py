"""Whether "Google knows" a stored identifier: the Google sandboxes' match universe.

A universe is a set of SHA-256 hex digests. A stored identifier (``email:<hex>``, ``phone:<hex>``,
``crm:<id>``, ``mobile:<id>``; see the sandboxes' notation) is known when its digest is in it: hashed
kinds carry their digest, plain kinds (CRM ids, mobile ids) are hashed here, so one universe of
digests configures every kind. Addresses never match (as in the sandboxes before: name + postal
matching is not emulated).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

HASHED_KINDS = frozenset({"email", "phone"})
PLAIN_KINDS = frozenset({"crm", "mobile"})


def is_known(identifier: str, universe: frozenset[str]) -> bool:
    """Whether one stored identifier's digest is in ``universe``."""
    kind, _, value = identifier.partition(":")
    if kind in HASHED_KINDS:
        return value in universe
    if kind in PLAIN_KINDS:
        return hashlib.sha256(value.encode("utf-8")).hexdigest() in universe
    return False


def any_known(identifiers: Iterable[str], universe: frozenset[str]) -> bool:
    """Whether one of a member's identifiers is known (the member "matched")."""
    return bool(universe) and any(is_known(identifier, universe) for identifier in identifiers)
