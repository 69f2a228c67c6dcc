"""Campaign performance read back from the vendors, stored per behavior x destination x day x reporting object.

Pure core (no Airflow). The destinations' reporting readers (``destinations/*_reporting.py``) return
``DailyFigures``; ``replace_range`` stores them in ``bsync_performance`` (state DB version 7). A read covers
a window of days (yesterday and a lookback: vendors restate recent days), and storing it replaces every
row of that behavior x destination inside the window, so re-reading a day is idempotent and an object
that no longer uses the audience disappears from the days read again. ``targets`` lists what there is to
read: every reportable destination of a behavior that has its audience (list) remembered in the state DB.
Only ids, names and figures are stored: never members.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

import sqlalchemy as sa

from behavior_sync.config import Behavior
from behavior_sync.statedb import StateDatabase, destination_objects, now, performance

# The object a destination remembers whose reporting we read, by destination type (``sync.objects`` kinds).
REPORTED_KINDS = {"meta": "audience", "google_ads": "user_list", "hubspot": "list"}
OBJECT_TYPES = ("adset", "campaign", "ad_group", "email")
DEFAULT_LOOKBACK_DAYS = 7  # vendors restate recent days (late conversions, late opens)


@dataclass(frozen=True)
class DailyFigures:
    """One reporting object's figures on one day as the vendor reported them; None: not reported.

    ``object_type``: adset (Meta), campaign or ad_group (Google), email (HubSpot); ``audience_id``: our
    audience, user list or list that the object uses. Money is in ``currency`` units; ``conversion_value``
    is None where no purchase value is tracked. E-mail rows use ``clicks`` for e-mail clicks.
    """

    day: dt.date
    object_type: str
    object_id: str
    object_name: str
    audience_id: str
    currency: str | None = None
    impressions: int | None = None
    clicks: int | None = None
    spend: float | None = None
    conversions: float | None = None
    conversion_value: float | None = None
    sent: int | None = None
    delivered: int | None = None
    opens: int | None = None
    unsubscribes: int | None = None


@dataclass(frozen=True)
class ReadWindow:
    """The days a read covers, both ends included."""

    since: dt.date
    until: dt.date

    def __post_init__(self) -> None:
        if self.since > self.until:
            raise ValueError(f"a read window starts on or before its end, not {self.since} after {self.until}")

    @classmethod
    def ending(cls, until: dt.date, days: int = DEFAULT_LOOKBACK_DAYS) -> ReadWindow:
        """The ``days`` days ending on ``until`` (``days`` >= 1)."""
        if days < 1:
            raise ValueError(f"a read covers at least one day, not {days}")
        return cls(until - dt.timedelta(days=days - 1), until)

    def holds(self, day: dt.date) -> bool:
        """Whether ``day`` is inside the window."""
        return self.since <= day <= self.until


@dataclass(frozen=True)
class Target:
    """A behavior x destination whose reporting can be read: its type, connection and remembered audience."""

    behavior: str
    destination_id: str
    destination_type: str
    connection: str
    audience_id: str
    account: str
    settings_api: str = ""  # Google: the destination's api (data_manager | google_ads_api)

    def label(self) -> str:
        """How errors and logs name it."""
        return f"behavior {self.behavior}, destination {self.destination_id} ({self.destination_type})"


def targets(db: StateDatabase, behaviors: Iterable[Behavior]) -> list[Target]:
    """Every reportable destination of ``behaviors`` with a remembered audience, in behavior then file order.

    A HubSpot property destination has no list, CleverTap no campaign reporting: neither is a target.
    """
    with db.engine.connect() as conn:
        rows = conn.execute(sa.select(destination_objects)).mappings().all()
    stored = {(r["behavior"], r["destination_id"], r["kind"]): r for r in rows}
    found: list[Target] = []
    for behavior in sorted(behaviors, key=lambda b: b.slug):
        for destination in behavior.destinations:
            kind = REPORTED_KINDS.get(destination.type)
            row = stored.get((behavior.slug, destination.id, kind or ""))
            if row is None or (destination.type == "hubspot" and destination.settings.get("mode") == "property"):
                continue
            api = str(destination.settings.get("api") or "data_manager") if destination.type == "google_ads" else ""
            found.append(
                Target(
                    behavior.slug,
                    destination.id,
                    destination.type,
                    destination.connection,
                    str(row["object_id"]),
                    str(row["account"]),
                    api,
                )
            )
    return found


def replace_range(
    db: StateDatabase, target: Target, window: ReadWindow, figures: Sequence[DailyFigures], run_id: str
) -> int:
    """Stores ``figures`` as ``target``'s reporting for ``window``: the window's earlier rows of the behavior x
    destination are deleted first, in the same transaction (idempotent). Returns the rows written.

    Raises ``ValueError`` (nothing written) for a figure outside the window or of an unknown object type.
    """
    for figure in figures:
        if not window.holds(figure.day) or figure.object_type not in OBJECT_TYPES:
            raise ValueError(f"{target.label()}: a {figure.object_type} row of {figure.day} is not in {window}")
    read_at = now()
    table = performance.c
    scope = (
        (table.behavior == target.behavior)
        & (table.destination_id == target.destination_id)
        & table.day.between(window.since, window.until)
    )
    rows = [
        {
            **asdict(f),
            "behavior": target.behavior,
            "destination_id": target.destination_id,
            "destination_type": target.destination_type,
            "run_id": run_id,
            "read_at": read_at,
        }
        for f in figures
    ]
    with db.engine.begin() as conn:
        conn.execute(performance.delete().where(scope))
        if rows:
            conn.execute(performance.insert(), rows)
    return len(rows)


def stored_figures(db: StateDatabase, behavior: str, destination_id: str, window: ReadWindow) -> list[DailyFigures]:
    """The stored rows of a behavior x destination inside ``window``, by day then object."""
    table = performance.c
    query = (
        sa.select(performance)
        .where((table.behavior == behavior) & (table.destination_id == destination_id))
        .where(table.day.between(window.since, window.until))
        .order_by(table.day, table.object_type, table.object_id)
    )
    fields = DailyFigures.__dataclass_fields__
    with db.engine.connect() as conn:
        rows = conn.execute(query).mappings().all()
    return [DailyFigures(**{k: v for k, v in row.items() if k in fields}) for row in rows]
