"""Deterministic synthetic reporting figures, shared by the sandboxes' reporting endpoints.

Every figure is a pure function of an object id (an ad set, a campaign or ad group, a marketing e-mail)
and a day: the same request always gives the same numbers, across restarts and machines, so tests can
assert them and the demo draws stable charts. Values come from SHA-256 of the id, the day and the
figure's name, scaled into a plausible range (CTR 0.4-3.5 %, CPC 0.25-1.80, conversion rate 1-8 %,
order value 25-140; e-mail open rate 18-45 %, click-to-open 8-30 %, unsubscribes under 1 %).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

_SCALE = float(2**64)


def unit(*parts: str) -> float:
    """A deterministic number in [0, 1) for ``parts``."""
    digest = hashlib.sha256("|".join(parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / _SCALE


def between(low: float, high: float, *parts: str) -> float:
    """A deterministic number in [low, high) for ``parts``."""
    return low + (high - low) * unit(*parts)


@dataclass(frozen=True)
class AdDay:
    """One ad object's day: impressions, clicks, spend (currency units, 2 decimals), purchases, purchase value."""

    impressions: int
    clicks: int
    spend: float
    purchases: int
    purchase_value: float


def ad_day(object_id: str, day: dt.date) -> AdDay:
    """The synthetic figures of ``object_id`` on ``day`` (weekends deliver 30 % less)."""
    key = (object_id, day.isoformat())
    weekend = 0.7 if day.weekday() >= 5 else 1.0
    impressions = int(between(800, 6000, *key, "impressions") * weekend)
    clicks = round(impressions * between(0.004, 0.035, *key, "ctr"))
    spend = round(clicks * between(0.25, 1.8, *key, "cpc"), 2)
    purchases = round(clicks * between(0.01, 0.08, *key, "cvr"))
    value = round(purchases * between(25.0, 140.0, *key, "aov"), 2)
    return AdDay(impressions, clicks, spend, purchases, value)


@dataclass(frozen=True)
class EmailSend:
    """One marketing e-mail's send: the counters HubSpot reports (unique opens and clicks)."""

    sent: int
    delivered: int
    bounced: int
    opens: int
    clicks: int
    unsubscribed: int


def email_send(email_id: str) -> EmailSend:
    """The synthetic counters of one e-mail send."""
    sent = int(between(200, 1200, email_id, "sent"))
    bounced = round(sent * between(0.0, 0.03, email_id, "bounce"))
    delivered = sent - bounced
    opens = round(delivered * between(0.18, 0.45, email_id, "open"))
    clicks = round(opens * between(0.08, 0.30, email_id, "click"))
    unsubscribed = round(delivered * between(0.0, 0.01, email_id, "unsubscribe"))
    return EmailSend(sent, delivered, bounced, opens, clicks, unsubscribed)
