"""HubSpot's request limits: a rolling 10-second window and a daily budget per portal, and the
search API's per-token limit per second. Injectable clock (epoch seconds); thread-safe.

Only admitted calls count: a call refused with 429 uses no budget. The day is the calendar day
of the portal's time zone, so the daily budget resets at the portal's local midnight.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sandbox.common.ratelimit import SlidingWindowCounter
from sandbox.hubspot.config import PortalConfig
from sandbox.hubspot.errors import DAILY, SECONDLY, TEN_SECONDLY, RateLimited

WINDOW_SECONDS = 10.0
HEADER_MAX = "X-HubSpot-RateLimit-Max"
HEADER_REMAINING = "X-HubSpot-RateLimit-Remaining"
HEADER_INTERVAL = "X-HubSpot-RateLimit-Interval-Milliseconds"
HEADER_DAILY = "X-HubSpot-RateLimit-Daily"
HEADER_DAILY_REMAINING = "X-HubSpot-RateLimit-Daily-Remaining"


class RequestLimiter:
    """Admits or refuses calls per portal (window + day) and per token (search)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._window = SlidingWindowCounter(WINDOW_SECONDS, clock)
        self._search = SlidingWindowCounter(1.0, clock)
        self._daily: dict[int, tuple[str, int]] = {}

    def admit(self, portal: PortalConfig, search_key: str | None = None, search_limit: int = 4) -> None:
        """Count one call, or raise ``RateLimited`` (TEN_SECONDLY_ROLLING, DAILY, then SECONDLY for searches)."""
        key = str(portal.portal_id)
        with self._lock:
            if self._window.count(key) >= portal.window_limit:
                raise RateLimited(TEN_SECONDLY)
            if self._used_today(portal) >= portal.day_limit:
                raise RateLimited(DAILY)
            if search_key is not None and not self._search.try_acquire(search_key, search_limit):
                raise RateLimited(SECONDLY)
            self._window.try_acquire(key, portal.window_limit)
            day, used = self._today(portal), self._used_today(portal)
            self._daily[portal.portal_id] = (day, used + 1)

    def headers(self, portal: PortalConfig) -> dict[str, str]:
        """The X-HubSpot-RateLimit-* headers for a response to this portal."""
        with self._lock:
            in_window = self._window.count(str(portal.portal_id))
            used_today = self._used_today(portal)
        return {
            HEADER_MAX: str(portal.window_limit),
            HEADER_REMAINING: str(max(0, portal.window_limit - in_window)),
            HEADER_INTERVAL: str(int(WINDOW_SECONDS * 1000)),
            HEADER_DAILY: str(portal.day_limit),
            HEADER_DAILY_REMAINING: str(max(0, portal.day_limit - used_today)),
        }

    def usage(self, portal: PortalConfig) -> tuple[int, int, float]:
        """(calls in the current 10 s window, calls today, epoch seconds of the next daily reset)."""
        with self._lock:
            in_window = self._window.count(str(portal.portal_id))
            used_today = self._used_today(portal)
        zone = ZoneInfo(portal.time_zone)
        local = datetime.fromtimestamp(self._clock(), zone)
        midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), zone)
        return in_window, used_today, midnight.timestamp()

    def _today(self, portal: PortalConfig) -> str:
        return datetime.fromtimestamp(self._clock(), ZoneInfo(portal.time_zone)).date().isoformat()

    def _used_today(self, portal: PortalConfig) -> int:
        day, used = self._daily.get(portal.portal_id, ("", 0))
        return used if day == self._today(portal) else 0
