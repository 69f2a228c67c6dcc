"""Real destinations wrapped to fail or die at the k-th batch a load sends (not a mock: every other batch, and
the killed-after-send one, reaches the vendor sandbox through the real client).

``k`` counts the batches this load sends (0-based), whatever their op, so the fault lands at the same point
of a load whichever order the engine sends removes and adds in.
"""

from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass, field

import pyarrow as pa

from behavior_sync.sync.execute import BatchContext, Destination
from behavior_sync.sync.ledger import BatchResult
from behavior_sync.sync.plan import Capabilities
from tests.support.fake_destination import WorkerKilled


class BatchFailed(RuntimeError):
    """The whole batch failed (as a vendor's 5xx beyond the client's retries does): nothing was applied."""


@dataclass
class FaultAt:
    """Delegates to ``inner``; at the first batch sent from the ``at``-th on that carries a member of
    ``carrying`` (any member when empty): ``fail`` raises ``BatchFailed`` before sending, ``kill_before`` kills
    the worker before sending, ``kill_after`` lets the vendor apply the batch and kills the worker before the
    ledger records the answer. ``fired_at`` / ``batch_keys``: the faulted batch's number in the load and its member
    keys (-1 / empty: no fault fired)."""

    inner: Destination
    at: int
    mode: str  # fail | kill_before | kill_after
    carrying: Set[str] = frozenset()
    capabilities: Capabilities = field(init=False)
    sent: int = 0
    fired_at: int = -1
    batch_keys: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if self.mode not in ("fail", "kill_before", "kill_after"):
            raise ValueError(f"unknown fault mode {self.mode!r}")
        self.capabilities = self.inner.capabilities

    def preflight(self, batches: object) -> None:
        """Forwards the inner destination's preflight check, if it has one."""
        check = getattr(self.inner, "preflight", None)
        if check is not None:
            check(batches)

    def send(self, rows: pa.Table, context: BatchContext) -> BatchResult:
        number, self.sent = self.sent, self.sent + 1
        keys = frozenset(rows.column("member_key").to_pylist())
        if self.batch_keys or number < self.at or (self.carrying and not keys & self.carrying):
            return self.inner.send(rows, context)
        self.fired_at, self.batch_keys = number, keys
        if self.mode == "fail":
            raise BatchFailed(f"HTTP 503 on {context.op} batch {context.number}")
        if self.mode == "kill_before":
            raise WorkerKilled(f"killed before {context.op} batch {context.number}")
        self.inner.send(rows, context)
        raise WorkerKilled(f"killed after {context.op} batch {context.number} was applied")
