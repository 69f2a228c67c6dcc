"""Count read-back of a Google Customer Match list: its size as Google reports it (Data Manager ``sizeInfo`` or
the Google Ads API ``size_for_search``: both clients answer a Data Manager ``UserList``).

Google counts matched members only, rounds sizes (taken here as rounded down to two significant digits) and
may report 0 for lists under 1,000 members. The match rate is what the wait step recorded from Google's
processing report (the midpoint of a ten-point range); without one, anything from none to all of the
committed members may count. A list Google no longer has holds nobody: a count of 0.
"""

from __future__ import annotations

from behavior_sync.destinations.google_dm import UserListClient
from behavior_sync.destinations.google_dm_status import list_size
from behavior_sync.destinations.readback import ReportedCount, two_digit_range

ZERO_BELOW = 1_000  # Google may report 0 for a list smaller than this
RANGE_HALF_WIDTH = 0.05  # Google's match-rate ranges are ten points wide; the recorded rate is their midpoint


class GoogleReadBack:
    """A user list's reported size (implements ``CountReadBack``)."""

    def __init__(self, client: UserListClient, list_id: str, match_rate: float | None) -> None:
        self._client, self._list_id, self._match_rate = client, list_id, match_rate

    def count(self) -> ReportedCount:
        """The search-network size Google reports now, as the range its rounding allows (0 when the list is gone).
        Raises ``GoogleAdsError`` when Google cannot answer."""
        rounding = "Google's size rounded down to two significant digits (0 possible under 1,000)"
        user_list = self._client.get_user_list(self._list_id)
        if user_list is None:
            return ReportedCount(0, 0, rounding, notes={"list_gone": True})
        size = list_size(user_list)
        low, high = two_digit_range(size.search)
        rate = self._match_rate
        match = (0.0, 1.0) if rate is None else (max(0.0, rate - RANGE_HALF_WIDTH), min(1.0, rate + RANGE_HALF_WIDTH))
        notes = {"search_size": size.search, "display_size": size.display, "match_rate": rate}
        return ReportedCount(low, high, rounding, *match, zero_below=ZERO_BELOW, notes=notes)
