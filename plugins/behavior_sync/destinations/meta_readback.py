"""Count read-back of a Meta custom audience: its approximate size bounds, and the match rate of its uploads.

Meta reports ``approximate_count_lower_bound`` / ``approximate_count_upper_bound`` (the true count lies between
them; Meta rounds and lags processing by up to a day) and, per upload session (``GET /{id}/sessions``),
``num_received`` and ``num_matched``: the matched share of the rows received is how much of what we sent Meta
can count. Without sessions (none kept, or an API that serves none) every committed member is assumed
countable (match rate 1). An audience Meta no longer has (deleted, or purged after two years unused) holds
nobody: a count of 0.
"""

from __future__ import annotations

from typing import Any

from behavior_sync.destinations.meta_client import MetaClient
from behavior_sync.destinations.meta_errors import MetaAudienceMissing
from behavior_sync.destinations.readback import ReportedCount


def session_match_rate(sessions: list[dict[str, Any]]) -> float | None:
    """Matched share of the rows the sessions received (None: no session received any)."""
    received = sum(int(s.get("num_received") or 0) for s in sessions)
    matched = sum(int(s.get("num_matched") or 0) for s in sessions)
    return min(1.0, matched / received) if received else None


class MetaReadBack:
    """An audience's reported size (implements ``CountReadBack``)."""

    def __init__(self, client: MetaClient, audience_id: str) -> None:
        self._client, self._audience_id = client, audience_id

    def count(self) -> ReportedCount:
        """The bounds Meta reports now, with the sessions' match rate (0 when the audience is gone). Raises
        ``MetaError``."""
        rounding = "Meta's approximate_count lower and upper bounds"
        try:
            fields = self._client.read_audience(self._audience_id)
            sessions = self._client.audience_sessions(self._audience_id)
        except MetaAudienceMissing:
            return ReportedCount(0, 0, rounding, notes={"audience_gone": True})
        rate = session_match_rate(sessions)
        low = int(fields.get("approximate_count_lower_bound") or 0)
        high = max(low, int(fields.get("approximate_count_upper_bound") or 0))
        notes = {"sessions": len(sessions), "session_match_rate": rate}
        return ReportedCount(low, high, rounding, rate or 1.0, rate or 1.0, notes=notes)
