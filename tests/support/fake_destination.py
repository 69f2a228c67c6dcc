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
        key = (context.op, context.number)
        if key in self.kill_before:
            self.kill_before.discard(key)
            raise WorkerKilled(f"killed before {key}")
        if key in self.fail_batches:
            raise RuntimeError(f"HTTP 503 on {key}")
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
