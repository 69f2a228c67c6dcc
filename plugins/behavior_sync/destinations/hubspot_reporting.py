"""HubSpot marketing-email statistics of the sends to a behavior's list (performance read-back).

Marketing Emails API through hubspot-api-client, on the pinned date-based version (``hubspot_api``):
``read_hubspot_performance`` pages the portal's published marketing e-mails (``GET /marketing/emails/<version>/``)
and keeps those whose recipients include the list (``to.contactIlsLists.include``) and do not exclude it; for
each one published inside the window it reads the daily statistics histogram (``GET
/marketing/emails/<version>/statistics/histogram?interval=DAY`` for that e-mail): sent, delivered, open, click
and unsubscribed counters per day. HubSpot buckets an e-mail's statistics by its
send time, so each e-mail yields the day it was sent, with the opens and clicks counted so far (they grow for
days: the read-back's lookback reads them again). The Service Key (or private app) needs the ``content`` scope
(HubSpot's Marketing Hub e-mail scope; ``marketing-email`` on newer apps); without it the read fails with HTTP 403
naming the scope. Errors go through ``HubSpotClient.call`` (the error table and the portal's request window).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from functools import partial
from typing import Any

from behavior_sync.destinations.hubspot_client import HubSpotClient
from behavior_sync.performance_store import DailyFigures, ReadWindow

PAGE_SIZE = 100


def emails_to_list(client: HubSpotClient, list_id: str, window: ReadWindow) -> list[tuple[str, str]]:
    """(id, name) of the published e-mails sent to ``list_id`` (included, not excluded) inside ``window``."""
    api = client.sdk.marketing.emails.marketing_emails_api
    found: list[tuple[str, str]] = []
    after: str | None = None
    while True:
        options: dict[str, Any] = {"limit": PAGE_SIZE, "is_published": True, **({"after": after} if after else {})}
        page = client.call(
            "listing the marketing e-mails", partial(client.sdk_call, api.get_page_with_http_info, **options)
        )
        found += [(str(e.id), str(e.name or "")) for e in page.results or () if _sent_to(e, list_id, window)]
        after = page.paging.next.after if page.paging and page.paging.next else None
        if not after:
            return found


def read_hubspot_performance(client: HubSpotClient, list_id: str, window: ReadWindow) -> list[DailyFigures]:
    """Daily e-mail figures of the sends to list ``list_id`` inside ``window``; raises ``HubSpotError``."""
    api = client.sdk.marketing.emails.statistics_api
    start = dt.datetime.combine(window.since, dt.time(), dt.UTC)
    end = dt.datetime.combine(window.until + dt.timedelta(days=1), dt.time(), dt.UTC)
    figures: list[DailyFigures] = []
    for email_id, name in emails_to_list(client, list_id, window):
        options = {
            "interval": "DAY",
            "start_timestamp": _iso(start),
            "end_timestamp": _iso(end),
            "email_ids": [int(email_id)],
        }
        request = partial(client.sdk_call, api.get_histogram_with_http_info, **options)
        answer = client.call(f"reading the statistics of e-mail {email_id}", request)
        for bucket in answer.results or ():
            day = _day(bucket.interval.start)
            counters: Mapping[str, int] = (bucket.aggregations.counters if bucket.aggregations else None) or {}
            if counters.get("sent") and window.holds(day):
                figures.append(_figures(day, email_id, name, list_id, counters))
    return figures


def _sent_to(email: Any, list_id: str, window: ReadWindow) -> bool:
    """Whether ``email`` (a ``PublicEmail``) went to ``list_id`` and was published inside ``window``."""
    lists = email.to.contact_ils_lists if email.to else None
    included = {str(i) for i in (lists.include if lists else None) or ()}
    excluded = {str(i) for i in (lists.exclude if lists else None) or ()}
    published = email.publish_date
    return list_id in included - excluded and published is not None and window.holds(_day(published))


def _day(moment: dt.datetime) -> dt.date:
    return (moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)).astimezone(dt.UTC).date()


def _iso(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _figures(day: dt.date, email_id: str, name: str, list_id: str, counters: Mapping[str, int]) -> DailyFigures:
    return DailyFigures(
        day=day,
        object_type="email",
        object_id=email_id,
        object_name=name,
        audience_id=list_id,
        clicks=int(counters.get("click", 0)),
        sent=int(counters.get("sent", 0)),
        delivered=int(counters.get("delivered", 0)),
        opens=int(counters.get("open", 0)),
        unsubscribes=int(counters.get("unsubscribed", 0)),
    )
