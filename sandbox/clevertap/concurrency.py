"""CleverTap's rate model: a cap on requests in flight per account and API group, not a time window.

``ConcurrencyGate.slot`` admits a request when its (account, group) has fewer than ``limit``
requests in flight, and records the highest concurrency each key ever reached, so tests can
assert both the refusals and the peak.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager


class ConcurrencyGate:
    """Counts in-flight requests per key. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._in_flight: Counter[tuple[str, str]] = Counter()
        self._peak: Counter[tuple[str, str]] = Counter()

    @contextmanager
    def slot(self, account_id: str, group: str, limit: int) -> Iterator[bool]:
        """Yield True while holding one of ``limit`` slots of (account, group), or False when all are taken.

        The slot is released on exit, also when the body raises. A refused request holds nothing.
        """
        key = (account_id, group)
        with self._lock:
            admitted = self._in_flight[key] < limit
            if admitted:
                self._in_flight[key] += 1
                self._peak[key] = max(self._peak[key], self._in_flight[key])
        try:
            yield admitted
        finally:
            if admitted:
                with self._lock:
                    self._in_flight[key] -= 1

    def snapshot(self) -> dict[str, dict[str, dict[str, int]]]:
        """Per account, per group: ``{"in_flight": n, "max_seen": m}``."""
        with self._lock:
            view: dict[str, dict[str, dict[str, int]]] = {}
            for account_id, group in sorted(set(self._peak) | set(self._in_flight)):
                key = (account_id, group)
                view.setdefault(account_id, {})[group] = {
                    "in_flight": self._in_flight[key],
                    "max_seen": self._peak[key],
                }
            return view
