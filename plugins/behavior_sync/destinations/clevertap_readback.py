"""Sampled read-back of CleverTap: does each sampled identity's profile hold the behavior's membership?

CleverTap lists no profiles by property on the server API (its profile downloads go by event), so the
reconcile step samples committed identities and reads each profile (``GET /1/profile.json?identity=``, three
at a time per account). A profile counts as missing when CleverTap has none, or when its
``behavior_<slug>`` property is not true: our add sets it true and only our remove sets it false.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from behavior_sync.destinations.clevertap_client import CleverTapClient


def holds_membership(record: dict[str, Any] | None, property_name: str) -> bool:
    """Whether a profile record (None: no profile) holds the membership property as true."""
    if record is None:
        return False
    value = (record.get("profileData") or {}).get(property_name)
    return value is True or str(value).lower() == "true"


class CleverTapReadBack:
    """Membership of sampled identities (implements ``SampledReadBack``)."""

    key_type = "identity"

    def __init__(self, client: CleverTapClient, property_name: str) -> None:
        self._client, self._property = client, property_name

    def lacking(self, sample: Sequence[str]) -> list[str]:
        """The sampled identities whose profile is missing or not a member. Raises ``CleverTapError``."""
        return [i for i in sample if not holds_membership(self._client.profile(i), self._property)]
