"""Count read-back of a Meta custom audience: its approximate size bounds, and the match rate of its uploads.

Meta reports ``approximate_count_lower_bound`` / ``approximate_count_upper_bound`` (the true count lies between
them; Meta rounds and lags processing by up to a day) and, per upload session (``GET /{id}/sessions``),
``num_received``, ``num_matched``, ``num_invalid_entries`` and ``stage``: the matched share of the rows received
is how much of what we sent Meta can count. A session still ``uploading`` (or ``processing``), or whose
``num_matched`` is missing or negative (a session can stay stuck in "uploading" with -1:
facebook-java-business-sdk#492), is pending: it counts in no match rate. ``session_report`` is what a sync's
history records of its own sessions. Without settled sessions (none kept, or an API that serves none) every
committed member is assumed countable (match rate 1). An audience Meta no longer has (deleted, or purged after
two years unused) holds nobody: a count of 0.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from behavior_sync.destinations.meta_client import MetaClient
from behavior_sync.destinations.meta_errors import MetaAudienceMissing
from behavior_sync.destinations.readback import ReportedCount

PENDING_STAGES = frozenset({"uploading", "processing"})


def is_pending(session: dict[str, Any]) -> bool:
    """Whether Meta has not settled the session yet (module docstring): no match count to use."""
    matched = session.get("num_matched")
    stage = str(session.get("stage") or "").lower()
    return stage in PENDING_STAGES or matched is None or int(matched) < 0


def _total(sessions: list[dict[str, Any]], field: str) -> int:
    return sum(int(s.get(field) or 0) for s in sessions)


def session_match_rate(sessions: list[dict[str, Any]]) -> float | None:
    """Matched share of the rows the settled sessions received (None: no settled session received any)."""
    settled = [s for s in sessions if not is_pending(s)]
    received = _total(settled, "num_received")
    return min(1.0, _total(settled, "num_matched") / received) if received else None


def session_report(sessions: list[dict[str, Any]], session_ids: Collection[str]) -> dict[str, Any]:
    """History details of the sessions of ``sessions`` whose id is in ``session_ids`` (one run's uploads): how
    many, the settled ones' rows received, matched and invalid, their match rate (None while none is settled:
    pending, never 0), and how many are pending with the stage Meta reports for the first."""
    mine = [s for s in sessions if str(s.get("session_id")) in session_ids]
    settled = [s for s in mine if not is_pending(s)]
    pending = [s for s in mine if is_pending(s)]
    return {
        "sessions": len(mine),
        "received": _total(settled, "num_received"),
        "matched": _total(settled, "num_matched"),
        "invalid": _total(settled, "num_invalid_entries"),
        "match_rate": session_match_rate(settled),
        "pending_sessions": len(pending),
        "pending_stage": str(pending[0].get("stage") or "uploading") if pending else "",
    }


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
