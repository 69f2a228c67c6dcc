"""The demo warehouse's absolute timeline: day numbers since 1970-01-01, weeks, history windows.

Facts are drawn per (customer, absolute week) and kept when they fall inside the history window
that ends on ``as_of``. Moving ``as_of`` forward therefore keeps every past fact that is still in
the window and adds the new days: the warehouse for D + 7 is the warehouse for D, seven days on.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

EPOCH = dt.date(1970, 1, 1)
SIGNUP_FROM = dt.date(2017, 1, 1)
SIGNUP_TO = dt.date(2026, 9, 30)
ORDER_HISTORY_DAYS = 400  # orders kept: as_of and the 399 days before it
BROWSE_HISTORY_DAYS = 120  # clickstream retention is shorter, as in most warehouses
EMAIL_PERIOD_DAYS = 365  # a customer may change e-mail at most once per such absolute period


def day_number(day: dt.date) -> int:
    """Days from 1970-01-01 to ``day`` (negative before it)."""
    return (day - EPOCH).days


@dataclass(frozen=True)
class Timeline:
    """The windows of one warehouse date; every bound is inclusive and in day numbers."""

    as_of: dt.date

    @property
    def as_of_day(self) -> int:
        return day_number(self.as_of)

    @property
    def order_from_day(self) -> int:
        return self.as_of_day - ORDER_HISTORY_DAYS + 1

    @property
    def browse_from_day(self) -> int:
        return self.as_of_day - BROWSE_HISTORY_DAYS + 1

    def sql_params(self) -> dict[str, int]:
        """The named parameters (``$name``) the generator's SQL uses."""
        signup_from = day_number(SIGNUP_FROM)
        return {
            "as_of_day": self.as_of_day,
            "order_from_day": self.order_from_day,
            "browse_from_day": self.browse_from_day,
            "signup_from_day": signup_from,
            "signup_span_days": day_number(SIGNUP_TO) - signup_from + 1,
            "email_period_days": EMAIL_PERIOD_DAYS,
        }
