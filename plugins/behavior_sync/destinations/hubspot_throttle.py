"""Client-side throttle of one HubSpot portal's rolling request window (design invariant 7).

HubSpot counts requests per portal in a rolling 10-second window (100 or 190 by tier, shared by
the portal's Service Keys and private apps; Service Keys have "the same limits as privately distributed
apps"). ``PortalWindow`` keeps this process under it: before each request it waits
until fewer than ``limit`` of its own requests fall in the last window. Other processes (other
behavior DAGs in the same Airflow pool) are seen through HubSpot's ``X-HubSpot-RateLimit-Remaining``
header: when the portal's remaining window drops to the reserve, the next request waits a full
window. One window per portal per process (``window_for``), thread-safe. Tier limits: reference §3.3.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Mapping

# tier -> (requests per rolling 10 s, requests per day), per portal, for Service Keys and private apps
TIER_LIMITS: dict[str, tuple[int, int]] = {
    "free": (100, 250_000),
    "starter": (100, 250_000),
    "professional": (190, 650_000),
    "enterprise": (190, 1_000_000),
}
WINDOW_SECONDS = 10.0
REMAINING_HEADER = "X-HubSpot-RateLimit-Remaining"


class PortalWindow:
    """At most ``limit`` requests per ``interval`` seconds from this process, and a pause when the portal
    reports fewer than ``reserve`` left. ``clock`` is injectable; the ``sleep`` given to ``acquire`` must
    advance it (tests pass a fake pair)."""

    def __init__(self, limit: int, interval: float = WINDOW_SECONDS, clock: Callable[[], float] = time.monotonic):
        self.limit = limit
        self.interval = interval
        self.reserve = max(2, limit // 10)
        self._clock = clock
        self._sent: deque[float] = deque()
        self._paused_until = 0.0
        self._lock = threading.Lock()

    def acquire(self, sleep: Callable[[float], None]) -> float:
        """Waits (through ``sleep``) until a request may go, counts it; returns the seconds waited."""
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                delay = self._delay(now)
                if delay <= 0:
                    self._sent.append(now)
                    return waited
            sleep(delay)
            waited += delay

    def _delay(self, now: float) -> float:
        while self._sent and self._sent[0] <= now - self.interval:
            self._sent.popleft()
        if now < self._paused_until:
            return self._paused_until - now
        if len(self._sent) >= self.limit:
            return self._sent[0] + self.interval - now
        return 0.0

    def observe(self, headers: Mapping[str, str] | None) -> None:
        """Reads the portal-wide remaining window from an answer's headers; pauses at the reserve."""
        try:
            remaining = int((headers or {}).get(REMAINING_HEADER, ""))
        except ValueError:
            return
        if remaining <= self.reserve:
            with self._lock:
                self._paused_until = max(self._paused_until, self._clock() + self.interval)

    def pause(self, seconds: float) -> None:
        """Holds every request of this process for ``seconds`` (after a 429)."""
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + seconds)


_WINDOWS: dict[str, PortalWindow] = {}
_WINDOWS_LOCK = threading.Lock()


def window_for(portal_id: str, tier: str) -> PortalWindow:
    """The process-wide window of a portal (created with its tier's limit on first use)."""
    with _WINDOWS_LOCK:
        window = _WINDOWS.get(portal_id)
        if window is None:
            window = _WINDOWS[portal_id] = PortalWindow(TIER_LIMITS[tier][0])
        return window
