"""Which members a destination may receive as far as consent goes (Google's EU user consent policy).

Google Customer Match (``google_ads``) takes a member only when both purposes, ``ad_user_data`` and
``ad_personalization``, are GRANTED. Per purpose the member's consent is the behavior's consent column
(``consent:`` in the behavior file, read by validate as GRANTED / DENIED / NULL) when it holds a
value, else the destination's ``consent`` setting, else UNSPECIFIED. A member whose consent is not
GRANTED is not usable for the destination: it is quarantined with ``consent_not_granted``, never
prepared, and therefore planned as a removal when an earlier run added it. Other destination types
are not filtered by consent.
"""

from __future__ import annotations

from behavior_sync.identity.spec import DestinationSpec, IdentitySpec

PURPOSES = ("ad_user_data", "ad_personalization")
CONSENT_VALUES = frozenset({"GRANTED", "DENIED", "UNSPECIFIED"})
CONSENT_DESTINATIONS = frozenset({"google_ads"})


def consent_sql(spec: IdentitySpec, destination: DestinationSpec) -> str:
    """SQL over a ``members`` row: true when ``destination`` may receive the member (see the module docstring)."""
    if destination.type not in CONSENT_DESTINATIONS:
        return "true"
    defaults = destination.settings.get("consent") or {}
    checks = []
    for purpose in PURPOSES:
        default = str(defaults.get(purpose) or "UNSPECIFIED")
        if default not in CONSENT_VALUES:
            raise ValueError(f"destination {destination.id}: consent.{purpose} must be one of {sorted(CONSENT_VALUES)}")
        column = f"consent_{purpose}" if purpose in spec.consent else "NULL"
        checks.append(f"coalesce({column}, '{default}') = 'GRANTED'")
    return "(" + " AND ".join(checks) + ")"
