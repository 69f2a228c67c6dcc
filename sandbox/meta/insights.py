"""The Meta sandbox's reporting: ad sets (``GET act_{id}/adsets``) and their Insights (``GET {adset}/insights``).

The seed: every audience of an ad account is used by ad sets that a marketer made in Ads Manager (the
sandbox has no ad set writes). Audience ``A`` (named N) has
* ``A01`` "Prospecting - N": ``targeting.custom_audiences`` holds A; purchases are tracked (actions and
  action_values ``omni_purchase``, ``purchase``, ``offsite_conversion.fb_pixel_purchase``, same value);
* ``A02`` "Leads - N" for about half the audiences (``sha256`` of the id): A inside ``flexible_spec``; leads
  only, no purchase value;
* ``A09`` "Lookalike excluding N": A in ``excluded_custom_audiences`` (it does not target A).
Every ad set delivered every day up to the sandbox's today (UTC), with figures from ``common.reporting``
(the same request always gives the same numbers). Insights answer one row per day with delivery
(``time_increment=1``) or one row for the range (``all_days``, the default), numbers as strings as Meta
sends them; refusals are Meta's: code 100 for a bad parameter, 3018 for a start beyond 37 months.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sandbox.common.reporting import ad_day, unit
from sandbox.meta.endpoints import graph_page, parse_fields
from sandbox.meta.errors import GraphError, invalid_parameter
from sandbox.meta.routing import Call

if TYPE_CHECKING:
    from sandbox.meta.app import MetaSandbox
    from sandbox.meta.store import AudienceStore

CURRENCY = "USD"
ADSET_FIELDS = frozenset({"id", "name", "account_id", "campaign_id", "targeting", "effective_status", "status"})
INSIGHT_FIELDS = frozenset(
    {"account_currency", "adset_id", "adset_name", "impressions", "clicks", "spend", "actions", "action_values"}
)
PURCHASE_TYPES = ("omni_purchase", "purchase", "offsite_conversion.fb_pixel_purchase")
MAX_MONTHS_BACK = 37


@dataclass(frozen=True)
class AdSet:
    """One seeded ad set: ids, name, targeting, and whether its conversions are purchases with a value."""

    id: str
    name: str
    account_id: str
    targeting: dict[str, Any]
    purchases: bool

    def graph_fields(self) -> dict[str, Any]:
        """Every field the sandbox emulates, as Graph returns them."""
        return {
            "id": self.id,
            "name": self.name,
            "account_id": self.account_id,
            "campaign_id": f"{self.id}7",
            "targeting": self.targeting,
            "effective_status": "ACTIVE",
            "status": "ACTIVE",
        }


def seeded_ad_sets(store: AudienceStore, audience_id: str) -> list[AdSet]:
    """The ad sets the seed gives audience ``audience_id`` (none when it does not exist)."""
    owner = store.owner(audience_id)
    if owner is None:
        return []
    name = str(store.fields(audience_id)["name"])
    ref = [{"id": audience_id, "name": name}]
    countries = {"geo_locations": {"countries": ["US"]}}
    sets = [AdSet(f"{audience_id}01", f"Prospecting - {name}", owner, {"custom_audiences": ref, **countries}, True)]
    if unit(audience_id, "leads") < 0.5:
        targeting = {"flexible_spec": [{"custom_audiences": ref}], **countries}
        sets.append(AdSet(f"{audience_id}02", f"Leads - {name}", owner, targeting, False))
    excluded = {"excluded_custom_audiences": ref, **countries}
    sets.append(AdSet(f"{audience_id}09", f"Lookalike excluding {name}", owner, excluded, True))
    return sets


def find_ad_set(store: AudienceStore, node: str) -> AdSet | None:
    """The seeded ad set with id ``node``, or None."""
    return next((s for s in seeded_ad_sets(store, node[:-2]) if s.id == node), None)


def list_ad_sets(sandbox: MetaSandbox, call: Call) -> dict[str, Any]:
    """GET /act_{id}/adsets: Graph paging over the account's ad sets (by audience, oldest first)."""
    fields = parse_fields(call.params.get("fields"), ADSET_FIELDS, "AdSet")
    store = sandbox.store
    sets = [s for a in store.account_audience_ids(call.account_id) for s in seeded_ad_sets(store, a)]
    return graph_page(sets, call, lambda s: {k: v for k, v in s.graph_fields().items() if k in {"id", *fields}})


def read_insights(sandbox: MetaSandbox, call: Call) -> dict[str, Any]:
    """GET /{adset_id}/insights: level adset, by day (``time_increment=1``) or over the range."""
    ad_set = find_ad_set(sandbox.store, call.route.node)
    assert ad_set is not None  # the app routes ad set ids only here
    fields = parse_fields(call.params.get("fields"), INSIGHT_FIELDS, "AdsInsights")
    if call.params.get("level", "adset") != "adset":
        raise invalid_parameter("The sandbox emulates level=adset only")
    today = dt.datetime.fromtimestamp(sandbox.clock(), dt.UTC).date()
    since, until = _time_range(call.params.get("time_range"), today)
    buckets = _buckets(list(_days(since, min(until, today))), call.params.get("time_increment", "all_days"))
    return graph_page([b for b in buckets if b], call, lambda days: _row(ad_set, days, fields))


def _row(ad_set: AdSet, days: list[dt.date], fields: list[str]) -> dict[str, Any]:
    figures = [ad_day(ad_set.id, d) for d in days]
    purchases = sum(f.purchases for f in figures)
    values: dict[str, Any] = {
        "account_currency": CURRENCY,
        "adset_id": ad_set.id,
        "adset_name": ad_set.name,
        "impressions": str(sum(f.impressions for f in figures)),
        "clicks": str(sum(f.clicks for f in figures)),
        "spend": f"{sum(f.spend for f in figures):.2f}",
        "actions": [{"action_type": "link_click", "value": str(sum(f.clicks for f in figures))}],
    }
    if ad_set.purchases and purchases:
        value = f"{sum(f.purchase_value for f in figures):.2f}"
        values["actions"] += [{"action_type": kind, "value": str(purchases)} for kind in PURCHASE_TYPES]
        values["action_values"] = [{"action_type": kind, "value": value} for kind in PURCHASE_TYPES]
    elif not ad_set.purchases and purchases:
        values["actions"].append({"action_type": "lead", "value": str(purchases)})
    dates = {"date_start": days[0].isoformat(), "date_stop": days[-1].isoformat()}
    return {**{k: values[k] for k in fields if k in values}, **dates}


def _time_range(raw: str | None, today: dt.date) -> tuple[dt.date, dt.date]:
    """``time_range`` ({"since", "until"}, YYYY-MM-DD), else the last 30 days before today."""
    if raw is None:
        return today - dt.timedelta(days=30), today - dt.timedelta(days=1)
    try:
        value = json.loads(raw)
        since, until = dt.date.fromisoformat(value["since"]), dt.date.fromisoformat(value["until"])
    except (ValueError, TypeError, KeyError):
        raise invalid_parameter("param time_range must be a JSON object with since and until (YYYY-MM-DD)") from None
    if since > until:
        raise invalid_parameter("time_range: since must be on or before until")
    if (today.year - since.year) * 12 + today.month - since.month > MAX_MONTHS_BACK:
        raise GraphError(3018, "The start date of the time range cannot be beyond 37 months from the current date")
    return since, until


def _days(since: dt.date, until: dt.date) -> Iterator[dt.date]:
    day = since
    while day <= until:
        yield day
        day += dt.timedelta(days=1)


def _buckets(days: list[dt.date], increment: str) -> list[list[dt.date]]:
    if increment == "all_days":
        return [days]
    if increment != "1":
        raise invalid_parameter("The sandbox emulates time_increment=1 (daily) and all_days only")
    return [[d] for d in days]


Endpoint = Callable[["MetaSandbox", Call], dict[str, Any]]
REPORTING_ENDPOINTS: dict[tuple[str, str | None, str], Endpoint] = {
    ("account", "adsets", "GET"): list_ad_sets,
    ("adset", "insights", "GET"): read_insights,
}
