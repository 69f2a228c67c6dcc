"""Campaign performance compared across behaviors: the read model over ``bsync_performance``.

Pure core (no Airflow). ``performance_by_behavior(db, since, until)`` sums the stored daily figures (read back
from the vendors by ``behavior_sync_airflow.performance_operators``) per behavior x destination and day, in
SQL, and derives the ratios the product promises:

=================  ==========================================  ============================================
ratio              formula                                     None when
=================  ==========================================  ============================================
ctr                clicks / impressions                        no impressions (e-mail destinations)
cpa                spend / conversions                         no conversions
roas               conversion value / spend of the objects     no object tracks a purchase value
                   that track a purchase value
conversion_rate    conversions / clicks                        no clicks, or no conversions reported
open_rate          opens / delivered                           nothing delivered (ad destinations)
click_rate         e-mail clicks / delivered                   nothing delivered
unsubscribe_rate   unsubscribes / delivered                    nothing delivered
=================  ==========================================  ============================================

Sums keep None for a figure no row reported (a ratio over it is None, never 0). Money is in the
destination account's currency (``currency``); figures of different destinations are not converted.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

import sqlalchemy as sa

from behavior_sync.statedb import StateDatabase, performance

SUMMED = (
    "impressions",
    "clicks",
    "spend",
    "conversions",
    "conversion_value",
    "tracked_spend",
    "sent",
    "delivered",
    "opens",
    "unsubscribes",
)
MONEY_AND_CONVERSIONS = frozenset({"spend", "conversions", "conversion_value", "tracked_spend"})
RATIOS = ("ctr", "cpa", "roas", "conversion_rate", "open_rate", "click_rate", "unsubscribe_rate")


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    return None if numerator is None or not denominator else numerator / denominator


@dataclass(frozen=True)
class Totals:
    """Summed figures (None: not reported) and the ratios derived from them (module docstring)."""

    impressions: int | None = None
    clicks: int | None = None
    spend: float | None = None
    conversions: float | None = None
    conversion_value: float | None = None
    tracked_spend: float | None = None  # spend of the rows that track a purchase value (ROAS's denominator)
    sent: int | None = None
    delivered: int | None = None
    opens: int | None = None
    unsubscribes: int | None = None

    @property
    def ctr(self) -> float | None:
        """Clicks per impression."""
        return _ratio(self.clicks, self.impressions)

    @property
    def cpa(self) -> float | None:
        """Spend per conversion."""
        return _ratio(self.spend, self.conversions)

    @property
    def roas(self) -> float | None:
        """Purchase value per unit of spend, over the objects that track a purchase value."""
        return _ratio(self.conversion_value, self.tracked_spend)

    @property
    def conversion_rate(self) -> float | None:
        """Conversions per click."""
        return _ratio(self.conversions, self.clicks)

    @property
    def open_rate(self) -> float | None:
        """Opens per delivered e-mail."""
        return _ratio(self.opens, self.delivered)

    @property
    def click_rate(self) -> float | None:
        """E-mail clicks per delivered e-mail."""
        return _ratio(self.clicks, self.delivered)

    @property
    def unsubscribe_rate(self) -> float | None:
        """Unsubscribes per delivered e-mail."""
        return _ratio(self.unsubscribes, self.delivered)

    def plus(self, other: Totals) -> Totals:
        """Figure-wise sum (None + None stays None; None counts as 0 next to a value)."""
        values: dict[str, Any] = {}
        for name in SUMMED:
            mine, theirs = getattr(self, name), getattr(other, name)
            values[name] = None if mine is None and theirs is None else (mine or 0) + (theirs or 0)
        return Totals(**values)

    def as_json(self) -> dict[str, Any]:
        """Every figure and ratio, JSON-ready."""
        values = {**{f.name: getattr(self, f.name) for f in fields(self)}, **{r: getattr(self, r) for r in RATIOS}}
        return {name: round(v, 6) if isinstance(v, float) else v for name, v in values.items()}


@dataclass(frozen=True)
class DayPoint:
    """One day of a behavior x destination."""

    day: dt.date
    totals: Totals


@dataclass(frozen=True)
class PairPerformance:
    """One behavior x destination over the period: totals, the daily series, how many reporting objects."""

    behavior: str
    destination_id: str
    destination_type: str
    currency: str | None
    objects: int
    daily: tuple[DayPoint, ...] = field(default=())

    @property
    def totals(self) -> Totals:
        """The period's sums."""
        total = Totals()
        for point in self.daily:
            total = total.plus(point.totals)
        return total

    def as_json(self) -> dict[str, Any]:
        """JSON-ready: identity, totals and the daily series (oldest first)."""
        return {
            "behavior": self.behavior,
            "destination_id": self.destination_id,
            "destination_type": self.destination_type,
            "currency": self.currency,
            "objects": self.objects,
            "totals": self.totals.as_json(),
            "daily": [{"day": p.day.isoformat(), **p.totals.as_json()} for p in self.daily],
        }


@dataclass(frozen=True)
class PerformanceReport:
    """Every behavior x destination with figures in ``since`` .. ``until`` (both included), by behavior."""

    since: dt.date
    until: dt.date
    pairs: tuple[PairPerformance, ...]

    def as_json(self) -> dict[str, Any]:
        """The JSON API's body."""
        return {
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "pairs": [p.as_json() for p in self.pairs],
        }

    def to_csv(self, daily: bool) -> str:
        """``csv_rows`` as CSV text with a header (``CSV_COLUMNS``; empty cells where a figure is not reported)."""
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(self.csv_rows(daily))
        return out.getvalue()

    def csv_rows(self, daily: bool) -> list[dict[str, Any]]:
        """Flat rows for CSV: one per pair and day (``daily``), else one per pair with its totals."""
        rows = []
        for pair in self.pairs:
            head = {
                "behavior": pair.behavior,
                "destination_id": pair.destination_id,
                "destination_type": pair.destination_type,
                "currency": pair.currency,
            }
            points = [(p.day.isoformat(), p.totals) for p in pair.daily] if daily else [("", pair.totals)]
            rows += [{**head, "day": day, **totals.as_json()} for day, totals in points]
        return rows


CSV_COLUMNS = ("behavior", "destination_id", "destination_type", "currency", "day", *SUMMED, *RATIOS)


def performance_by_behavior(
    db: StateDatabase, since: dt.date, until: dt.date, behaviors: Collection[str] | None = None
) -> PerformanceReport:
    """Per behavior x destination (only ``behaviors`` when given): totals and daily series from ``since`` to
    ``until`` (both included), in behavior then destination order. Raises ``ValueError`` when since > until."""
    if since > until:
        raise ValueError(f"since ({since}) must be on or before until ({until})")
    t = performance.c
    scope: sa.ColumnElement[bool] = t.day.between(since, until)
    if behaviors is not None:
        scope = scope & t.behavior.in_(sorted(behaviors))
    with db.engine.connect() as conn:
        days = conn.execute(_daily_query(scope)).mappings().all()
        objects = conn.execute(_objects_query(scope)).mappings().all()
    counts = {(r["behavior"], r["destination_id"]): (int(r["objects"]), r["currency"]) for r in objects}
    return PerformanceReport(since, until, tuple(_pairs(days, counts)))


def _daily_query(scope: sa.ColumnElement[bool]) -> sa.Select[Any]:
    t = performance.c
    tracked = sa.case((t.conversion_value.is_not(None), t.spend))
    sums = [sa.func.sum(getattr(t, n)).label(n) for n in SUMMED if n != "tracked_spend"]
    keys = (t.behavior, t.destination_id, t.destination_type, t.day)
    return (
        sa.select(*keys, *sums, sa.func.sum(tracked).label("tracked_spend"))
        .where(scope)
        .group_by(*keys)
        .order_by(*keys)
    )


def _objects_query(scope: sa.ColumnElement[bool]) -> sa.Select[Any]:
    t = performance.c
    distinct = sa.func.count(sa.distinct(t.object_type + ":" + t.object_id)).label("objects")
    keys = (t.behavior, t.destination_id)
    return sa.select(*keys, distinct, sa.func.max(t.currency).label("currency")).where(scope).group_by(*keys)


def _pairs(
    days: Iterable[sa.RowMapping], counts: Mapping[tuple[str, str], tuple[int, str | None]]
) -> list[PairPerformance]:
    grouped: dict[tuple[str, str, str], list[DayPoint]] = {}
    for row in days:
        figures: dict[str, Any] = {n: _number(n, row[n]) for n in SUMMED}
        totals = Totals(**figures)
        day = row["day"] if isinstance(row["day"], dt.date) else dt.date.fromisoformat(str(row["day"]))
        grouped.setdefault((row["behavior"], row["destination_id"], row["destination_type"]), []).append(
            DayPoint(day, totals)
        )
    return [
        PairPerformance(
            behavior,
            destination,
            kind,
            counts[behavior, destination][1],
            counts[behavior, destination][0],
            tuple(points),
        )
        for (behavior, destination, kind), points in grouped.items()
    ]


def _number(name: str, value: Any) -> int | float | None:
    """SQL sums as Python numbers: counts as int, money and conversions as float (None stays None)."""
    if value is None:
        return None
    return float(value) if name in MONEY_AND_CONVERSIONS else int(value)
