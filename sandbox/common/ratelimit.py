"""A sliding-window call counter, per key (e.g. per ad account), with an injectable clock."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable


class SlidingWindowCounter:
    """Counts calls per key over the last ``window_seconds``. Thread-safe.

    ``try_acquire`` is the budget check: it records the call only when the key is under its
    limit, so refused calls do not extend the penalty.
    """

    def __init__(self, window_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        if window_seconds <= 0:
            raise ValueError("window_seconds must be > 0")
        self._window = window_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._calls: dict[str, deque[float]] = {}

    def count(self, key: str) -> int:
        """Calls recorded for ``key`` within the window."""
        with self._lock:
            return len(self._pruned(key))

    def try_acquire(self, key: str, limit: int) -> bool:
        """Record a call for ``key`` and return True, or return False when ``limit`` is reached."""
        with self._lock:
            calls = self._pruned(key)
            if len(calls) >= limit:
                return False
            calls.append(self._clock())
            return True

    def seconds_until_available(self, key: str, limit: int) -> float:
        """Seconds until ``key`` is back under ``limit`` (0.0 when it is already)."""
        with self._lock:
            calls = self._pruned(key)
            if len(calls) < limit:
                return 0.0
            oldest_blocking = calls[len(calls) - limit]
            return max(0.0, oldest_blocking + self._window - self._clock())

    def minutes_until_available(self, key: str, limit: int) -> int:
        """``seconds_until_available`` rounded up to whole minutes."""
        return math.ceil(self.seconds_until_available(key, limit) / 60.0)

    def _pruned(self, key: str) -> deque[float]:
        calls = self._calls.setdefault(key, deque())
        horizon = self._clock() - self._window
        while calls and calls[0] <= horizon:
            calls.popleft()
        return calls
