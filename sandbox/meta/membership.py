"""An audience's membership: a set of rows, and the matching rule used by removals.

A stored row is the sorted ``(key, value)`` pairs of one uploaded person's non-empty values.
Adding stores the row unless an identical row is already there (no merging of partial rows).

Removal rule: a removal row deletes every stored row that is identical to it, or that shares the
value of a *strong* key with it (EMAIL, PHONE, MADID, EXTERN_ID: the same key and the same value).
Weak keys (names, city, zip, country, gender, birth date) never match on their own: a removal
made only of weak keys deletes only an identical stored row. So a person added with
``[EMAIL, PHONE]`` is removed by ``[EMAIL]`` alone, and ``[GEN]`` never empties half the audience.

Matching (``num_matched`` of upload sessions): without a configured universe every valid row matches; with
one (``sandbox.common.universe``, shared with the Google sandboxes), a row matches when Meta "knows" one of
its strong values: a hashed EMAIL or PHONE digest, or the SHA-256 of a MADID or EXTERN_ID.
"""

from __future__ import annotations

from collections.abc import Iterable

from sandbox.common.universe import Universe, any_known
from sandbox.meta.payload import Row

STRONG_KEYS = frozenset({"EMAIL", "PHONE", "MADID", "EXTERN_ID"})
_UNIVERSE_KINDS = {"EMAIL": "email", "PHONE": "phone", "MADID": "mobile", "EXTERN_ID": "crm"}


class Membership:
    """A set of rows with an index on strong keys. Not thread-safe: the store locks around it."""

    def __init__(self, rows: Iterable[Row] = ()) -> None:
        self._rows: set[Row] = set()
        self._index: dict[tuple[str, str], set[Row]] = {}
        for row in rows:
            self.add(row)

    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, row: object) -> bool:
        return row in self._rows

    def add(self, row: Row) -> bool:
        """Store ``row``; False when an identical row was already stored."""
        if row in self._rows:
            return False
        self._rows.add(row)
        for pair in _strong_pairs(row):
            self._index.setdefault(pair, set()).add(row)
        return True

    def remove_matching(self, row: Row) -> int:
        """Delete the stored rows matching ``row`` (see the module rule); returns how many."""
        matches = {row} & self._rows
        for pair in _strong_pairs(row):
            matches |= self._index.get(pair, set())
        for match in matches:
            self._discard(match)
        return len(matches)

    def sorted_rows(self) -> list[Row]:
        """Every stored row, in a stable order."""
        return sorted(self._rows)

    def _discard(self, row: Row) -> None:
        self._rows.discard(row)
        for pair in _strong_pairs(row):
            bucket = self._index.get(pair)
            if bucket is not None:
                bucket.discard(row)
                if not bucket:
                    del self._index[pair]


def _strong_pairs(row: Row) -> list[tuple[str, str]]:
    return [(key, value) for key, value in row if key in STRONG_KEYS]


def approximate_bounds(count: int) -> tuple[int, int]:
    """Meta-like size range for ``count`` stored rows: ``(lower, upper)``, ``lower <= count <= upper``.

    ``lower`` is ``count`` rounded down to two significant digits, ``upper`` is ``lower * 1.1``
    rounded half up; both are 0 for an empty audience. (Meta's real rounding is undocumented.)
    """
    if count <= 0:
        return 0, 0
    step = 10 ** max(len(str(count)) - 2, 0)
    lower = count // step * step
    return lower, (lower * 11 + 5) // 10


def matched_rows(rows: Iterable[Row], universe: Universe) -> int:
    """How many of ``rows`` Meta matches to people (every row when ``universe`` is empty; module docstring)."""
    found = list(rows)
    if not universe:
        return len(found)
    identifiers = ([f"{_UNIVERSE_KINDS[k]}:{v}" for k, v in row if k in _UNIVERSE_KINDS] for row in found)
    return sum(1 for ids in identifiers if any_known(ids, universe))
