"""A small in-process destination for testing the sync engine: it can fail, reject rows and crash on command.

Not a mock of any vendor SDK: it holds a set of (member_key, id_type, value) rows the way an
audience holds members, applies add/remove/replace batches, and records every call.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pyarrow as pa

from behavior_sync.sync.execute import BatchContext
from behavior_sync.sync.ledger import BatchResult, Rejection
from behavior_sync.sync.plan import Capabilities

Row = tuple[str, str, str]


class WorkerKilled(BaseException):
    """Simulates the worker dying mid-load (a BaseException: nothing in the engine catches it)."""


def _before_send(
    context: BatchContext, kill_before: set[tuple[str, int]], fail: set[tuple[str, int]]
) -> tuple[str, int]:
    """The batch's (op, number); kills the worker (once) or raises an HTTP 503 when the batch is named."""
    key = (context.op, context.number)
    if key in kill_before:
        kill_before.discard(key)
        raise WorkerKilled(f"killed before {key}")
    if key in fail:
        raise RuntimeError(f"HTTP 503 on {key}")
    return key


@dataclass
class FakeDestination:
    """An audience in memory. ``reject(op, row)`` returns a vendor code to refuse a row; ``fail_batches`` and
    ``kill_before``/``kill_after`` name (op, batch number) pairs that raise / kill before or after applying."""

    capabilities: Capabilities = field(
        default_factory=lambda: Capabilities(add_batch_members=2, remove_batch_members=2)
    )
    rows: set[Row] = field(default_factory=set)
    calls: list[tuple[str, int, int]] = field(default_factory=list)
    reject: Callable[[str, Row], str | None] = lambda op, row: None
    fail_batches: set[tuple[str, int]] = field(default_factory=set)
    kill_before: set[tuple[str, int]] = field(default_factory=set)
    kill_after: set[tuple[str, int]] = field(default_factory=set)
    _replacing: set[Row] = field(default_factory=set)

    def send(self, rows: pa.Table, context: BatchContext) -> BatchResult:
        key = _before_send(context, self.kill_before, self.fail_batches)
        self.calls.append((context.op, context.number, rows.num_rows))
        result = self._apply(context, [tuple(r.values()) for r in rows.to_pylist()])  # type: ignore[misc]
        if key in self.kill_after:
            self.kill_after.discard(key)
            raise WorkerKilled(f"killed after {key}")
        return result

    def _apply(self, context: BatchContext, batch: list[Row]) -> BatchResult:
        rejected = [(row, code) for row in batch if (code := self.reject(context.op, row))]
        refused = {row for row, _ in rejected}
        good = {row for row in batch if row not in refused}
        if context.op == "add":
            self.rows |= good
        elif context.op == "remove":
            self.rows -= good
        else:
            self._replacing = good if context.number == 0 else self._replacing | good
            if context.is_last:
                self.rows = set(self._replacing)
        rejections = tuple(Rejection(row[0], row[1], code, f"refused ({code})") for row, code in rejected)
        return BatchResult(accepted=len(good), rejections=rejections)


@dataclass
class KeyedDestination:
    """An in-memory destination that keys what it stores like a vendor (``Capabilities.keying``): one object per
    key value (VALUE), or a row per person removed by any shared key value (ROW).
    ``reject``/``fail_batches``/``kill_*`` work as in FakeDestination.
    ``foreign`` key values or rows were put there by someone else: they must survive every sync."""

    capabilities: Capabilities
    reject: Callable[[str, Row], str | None] = lambda op, row: None
    fail_batches: set[tuple[str, int]] = field(default_factory=set)
    kill_before: set[tuple[str, int]] = field(default_factory=set)
    kill_after: set[tuple[str, int]] = field(default_factory=set)
    stored: set[frozenset[tuple[str, str]]] = field(default_factory=set)
    redundant: list[tuple[str, tuple[str, str]]] = field(default_factory=list)  # VALUE: adds of present values
    # and removes of absent ones (what would be a second "Behavior Entered" or a stray "Exited" in CleverTap)

    def send(self, rows: pa.Table, context: BatchContext) -> BatchResult:
        key = _before_send(context, self.kill_before, self.fail_batches)
        batch = [tuple(r.values()) for r in rows.to_pylist()]
        # a member is stored whole or not at all: one refused row refuses all of its rows
        codes = {row[0]: code for row in batch if (code := self.reject(context.op, row))}  # type: ignore[arg-type]
        members: dict[str, set[tuple[str, str]]] = {}
        for member, id_type, value in batch:
            if member not in codes:
                members.setdefault(member, set()).update(self.pairs(member, id_type, value))
        rejections = tuple(Rejection(m, t, codes[m], f"refused ({codes[m]})") for m, t, _ in batch if m in codes)
        if self.capabilities.applied_stages:  # like CleverTap: what follows may not be sent twice
            context.mark(sorted(self.capabilities.applied_stages)[0], rejections)
        if context.op == "replace" and context.number == 0:
            self.stored.clear()
        for values in members.values():
            for part in [values] if self.capabilities.keying.value != "member" else [{v} for v in values]:
                self._apply(context.op, frozenset(part))
        if key in self.kill_after:
            self.kill_after.discard(key)
            raise WorkerKilled(f"killed after {key}")
        return BatchResult(accepted=len(batch) - len(rejections), rejections=rejections)

    def pairs(self, member: str, id_type: str, value: str) -> list[tuple[str, str]]:
        """What one row stores: (id_type, value), or for MEMBER keying the row itself, apart from other members'."""
        return [(f"{member}|{id_type}", value)] if self.capabilities.keying.value == "member" else [(id_type, value)]

    def _keys(self, values: frozenset[tuple[str, str]]) -> set[tuple[str, str]]:
        return {pair for pair in values if pair[0] in self.capabilities.key_types}

    def _apply(self, op: str, values: frozenset[tuple[str, str]]) -> None:
        keying = self.capabilities.keying.value
        if keying == "value":
            for pair in self._keys(values):
                single = frozenset({pair})
                if (single in self.stored) == (op != "remove"):
                    self.redundant.append((op, pair))
                self.stored = self.stored - {single} if op == "remove" else self.stored | {single}
            return
        sharing = {row for row in self.stored if row == values or self._keys(row) & self._keys(values)}
        if op == "remove":
            self.stored -= sharing
        else:
            self.stored.add(values)
