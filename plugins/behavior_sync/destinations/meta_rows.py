"""Meta multi-key rows: the pivot of a long-format batch, DELETE sizing and Meta's invalid-row answers.

A batch arrives as (member_key, id_type, value) rows of whole members, values already normalized and
SHA-256 hex (MADID and EXTERN_ID plain) by the identity core. Meta takes one row per person with one
column per schema key (``identity.rules.META_RULES``: id_type -> EMAIL, PHONE, FN, ...), ``""`` for an
unknown value. Meta reports invalid rows as a count and up to ten samples (row index -> reason); they
become ``Rejection`` rows of every identifier of the member, with messages that never hold values.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any
from urllib.parse import quote_plus

import pyarrow as pa

from behavior_sync.identity.rules import META_RULES
from behavior_sync.sync.ledger import Rejection

WIRE_KEYS: Mapping[str, str] = MappingProxyType({rule.id_type: rule.wire_key for rule in META_RULES})
MAX_POST_ROWS = 10_000  # Meta: at most 10,000 rows per /users or /usersreplace request
# DELETE carries the payload in the URL. Real Graph drops long URLs (SDK issue #367: ~1,500 one-key rows,
# ~110 KiB); half the sandbox's 128 KiB limit is the budget (sandbox/meta/README.md "DELETE size").
MAX_DELETE_QUERY_BYTES = 64 * 1024
INVALID_CODE = "invalid_entry"


@dataclass(frozen=True)
class MetaRows:
    """Rows for one request: ``schema`` (wire keys), one ``data`` row per person and, per row, the member
    key and the id types it carries (a member with two values of one key gets a second row)."""

    schema: tuple[str, ...]
    data: tuple[tuple[str, ...], ...]
    members: tuple[str, ...]
    id_types: tuple[tuple[str, ...], ...]

    def __len__(self) -> int:
        return len(self.data)

    def part(self, start: int, stop: int) -> MetaRows:
        """Rows ``start`` to ``stop`` (same schema)."""
        return MetaRows(self.schema, self.data[start:stop], self.members[start:stop], self.id_types[start:stop])


def pivot(rows: pa.Table) -> MetaRows:
    """Long-format rows -> Meta rows, members in first-seen order, keys in META_RULES order.

    Raises ValueError for an id_type Meta has no key for (names the type, not values).
    """
    values: dict[str, dict[str, list[str]]] = {}
    columns = (rows.column(name).to_pylist() for name in ("member_key", "id_type", "value"))
    for member, id_type, value in zip(*columns, strict=True):
        if id_type not in WIRE_KEYS:
            raise ValueError(f"identifier type {id_type!r} has no Meta schema key")
        values.setdefault(member, {}).setdefault(id_type, []).append(value)
    present = [t for t in WIRE_KEYS if any(t in by_type for by_type in values.values())]
    data: list[tuple[str, ...]] = []
    members: list[str] = []
    id_types: list[tuple[str, ...]] = []
    for member, by_type in values.items():
        for i in range(max(len(v) for v in by_type.values())):
            cells = tuple(by_type[t][i] if len(by_type.get(t, ())) > i else "" for t in present)
            data.append(cells)
            members.append(member)
            id_types.append(tuple(t for t, cell in zip(present, cells, strict=True) if cell))
    return MetaRows(tuple(WIRE_KEYS[t] for t in present), tuple(data), tuple(members), tuple(id_types))


def delete_chunks(rows: MetaRows, budget: int = MAX_DELETE_QUERY_BYTES) -> list[MetaRows]:
    """Consecutive parts of ``rows`` whose URL-encoded payload stays within ``budget`` bytes each."""
    fixed = len(quote_plus(json.dumps({"data": [], "is_raw": True, "schema": list(rows.schema)}))) + 64
    chunks: list[MetaRows] = []
    start, size = 0, fixed
    for i, row in enumerate(rows.data):
        cost = len(quote_plus(json.dumps(list(row), separators=(",", ":")))) + 3  # and the encoded comma
        if i > start and size + cost > budget:
            chunks.append(rows.part(start, i))
            start, size = i, fixed
        size += cost
    if start < len(rows):
        chunks.append(rows.part(start, len(rows)))
    return chunks


@dataclass(frozen=True)
class InvalidRows:
    """Meta's answer about invalid rows: rejections of the rows it identified, and how many it did not."""

    rejections: tuple[Rejection, ...]
    unidentified: int


def invalid_rows(rows: MetaRows, answer: Mapping[str, Any]) -> InvalidRows:
    """Maps ``num_invalid_entries`` / ``invalid_entry_samples`` (row index -> reason) to rejections."""
    samples = answer.get("invalid_entry_samples") or {}
    indexes = sorted({int(k) for k in samples if str(k).isdigit() and int(k) < len(rows)})
    found = [r for i in indexes for r in reject_row(rows, i, _safe_reason(rows, i, str(samples.get(str(i)))))]
    unidentified = max(0, int(answer.get("num_invalid_entries") or 0) - len(indexes))
    return InvalidRows(tuple(found), unidentified)


def reject_row(rows: MetaRows, index: int, reason: str) -> list[Rejection]:
    """One rejection per identifier of row ``index``: Meta stores a row whole or not at all."""
    message = f"Meta refused this member's row: {reason}"
    return [Rejection(rows.members[index], t, INVALID_CODE, message) for t in rows.id_types[index]]


def _safe_reason(rows: MetaRows, index: int, reason: str) -> str:
    """Meta's reason (e.g. ``EMAIL: not a SHA-256 hash``) unless it quotes a value of the row."""
    quoted = [cell for cell in rows.data[index] if cell] + [rows.members[index]] * (len(rows.members[index]) >= 4)
    if any(value in reason for value in quoted):
        return "reason withheld (Meta's text quoted an identifier)"
    return reason[:200]
