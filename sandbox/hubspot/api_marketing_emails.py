"""Marketing Emails v3, read side: the e-mails sent to the portal's lists and their statistics.

The seed: a marketer sends each contact list L (of the portal, made by a sync or by hand) a weekly
newsletter, published on a weekday fixed by L's id, for the last ``WEEKS`` weeks up to the sandbox's today;
each list also has one unpublished draft (no statistics). E-mail ids are ``L * 100000 + week`` (weeks since
1970-01-05) for newsletters, ``L * 100000`` for the draft; recipients are ``to.contactIlsLists.include = [L]``.
Each send's counters come from ``common.reporting.email_send`` (the same request always gives the same
numbers).
* ``GET /marketing/v3/emails``: ``limit`` (1-1000, default 100), ``after`` (cursor), ``includeStats``,
  ``isPublished``, ``archived`` (always none); ``{"total", "results", "paging"}``.
* ``GET /marketing/v3/emails/statistics/histogram``: ``interval`` (the sandbox emulates DAY), ``startTimestamp``
  and ``endTimestamp`` (ISO-8601, required, start before end), ``emailIds`` (repeated): one interval per day
  of the span with the counters of the chosen e-mails sent that day (HubSpot buckets by send time).
Scopes: ``content`` (or ``marketing-email``). Bad parameters are 400 VALIDATION_ERROR naming the parameter.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sandbox.common.reporting import EmailSend, email_send, unit
from sandbox.hubspot.calls import Call, Reply
from sandbox.hubspot.errors import invalid_field
from sandbox.hubspot.lists import decode_cursor, encode_cursor

WEEKS = 12
INTERVALS = frozenset({"DAY", "HOUR", "MINUTE", "MONTH", "QUARTER", "QUARTER_HOUR", "SECOND", "WEEK", "YEAR"})
_EPOCH_MONDAY = dt.date(1970, 1, 5)
_ID_BASE = 100_000
MAX_LIMIT = 1000


@dataclass(frozen=True)
class SeededEmail:
    """One seeded marketing e-mail: id, list, name, send day (None: a draft)."""

    email_id: int
    list_id: str
    name: str
    sent_on: dt.date | None

    def to_api(self, include_stats: bool) -> dict[str, Any]:
        """``PublicEmail`` JSON."""
        published = self.sent_on is not None
        stamp = f"{self.sent_on.isoformat()}T14:00:00Z" if self.sent_on else "2025-01-06T09:00:00Z"
        recipients = {"include": [self.list_id], "exclude": []}
        body: dict[str, Any] = {
            "id": str(self.email_id),
            "name": self.name,
            "subject": self.name,
            "type": "BATCH_EMAIL",
            "state": "PUBLISHED" if published else "DRAFT",
            "isPublished": published,
            "archived": False,
            "createdAt": stamp,
            "updatedAt": stamp,
            "to": {"contactIlsLists": recipients, "contactIds": {"include": [], "exclude": []}},
        }
        if published:
            body.update(publishDate=stamp, publishedAt=stamp)
        if include_stats:
            body["stats"] = statistics(email_send(str(self.email_id)) if published else None)
        return body


def seeded_emails(list_id: str, today: dt.date) -> list[SeededEmail]:
    """List ``list_id``'s draft and its newsletters of the last ``WEEKS`` weeks sent by ``today``, oldest first."""
    base, weekday = int(list_id) * _ID_BASE, int(unit(list_id, "weekday") * 5)
    current = (today - _EPOCH_MONDAY).days // 7
    emails = [SeededEmail(base, list_id, f"Draft - list {list_id}", None)]
    for week in range(current - WEEKS + 1, current + 1):
        sent_on = _EPOCH_MONDAY + dt.timedelta(days=7 * week + weekday)
        if sent_on <= today:
            emails.append(
                SeededEmail(base + week, list_id, f"Newsletter {sent_on.isoformat()} - list {list_id}", sent_on)
            )
    return emails


def statistics(send: EmailSend | None) -> dict[str, Any]:
    """``EmailStatisticsData`` JSON: counters and ratios (percent) of ``send`` (None: all zero)."""
    counters = {"sent": 0, "delivered": 0, "bounce": 0, "open": 0, "click": 0, "unsubscribed": 0}
    if send is not None:
        counters.update(
            sent=send.sent,
            delivered=send.delivered,
            bounce=send.bounced,
            open=send.opens,
            click=send.clicks,
            unsubscribed=send.unsubscribed,
        )
    delivered = counters["delivered"] or 1
    ratios = {
        "openratio": round(100 * counters["open"] / delivered, 3),
        "clickratio": round(100 * counters["click"] / delivered, 3),
        "unsubscribedratio": round(100 * counters["unsubscribed"] / delivered, 3),
    }
    return {"counters": counters, "ratios": ratios, "deviceBreakdown": {}, "qualifierStats": {}}


def list_emails(call: Call) -> Reply:
    """GET /marketing/v3/emails: the portal's e-mails, cursor paging by id."""
    limit = call.query_int("limit", 100, 1, MAX_LIMIT)
    after = decode_cursor(call.request.query["after"]) if call.request.query.get("after") else 0
    if after is None:
        raise invalid_field("after", "after is not a valid paging cursor")
    published = call.query_bool("isPublished") if "isPublished" in call.request.query else None
    emails = [e for e in _portal_emails(call) if published in (None, e.sent_on is not None)]
    if call.query_bool("archived"):
        emails = []  # the seed archives nothing
    rest = [e for e in emails if e.email_id > after]
    page = rest[:limit]
    body: dict[str, Any] = {"total": len(emails), "results": [e.to_api(call.query_bool("includeStats")) for e in page]}
    if len(rest) > limit:
        cursor = encode_cursor(str(page[-1].email_id))
        body["paging"] = {"next": {"after": cursor, "link": f"/marketing/v3/emails?after={cursor}"}}
    return Reply(200, body)


def histogram(call: Call) -> Reply:
    """GET /marketing/v3/emails/statistics/histogram: daily intervals of the chosen e-mails' counters."""
    if call.request.query.get("interval", "DAY") not in INTERVALS:
        raise invalid_field("interval", f"interval must be one of {', '.join(sorted(INTERVALS))}")
    if call.request.query.get("interval", "DAY") != "DAY":
        raise invalid_field("interval", "(sandbox) only interval=DAY is emulated")
    start, end = _timestamp(call, "startTimestamp"), _timestamp(call, "endTimestamp")
    if start >= end:
        raise invalid_field("endTimestamp", "endTimestamp must be after startTimestamp")
    wanted = {value for value in call.query_list("emailIds") if value.isdigit()}
    sends: dict[dt.date, list[EmailSend]] = {}
    for email in _portal_emails(call):
        if email.sent_on is not None and str(email.email_id) in wanted:
            sends.setdefault(email.sent_on, []).append(email_send(str(email.email_id)))
    days = [start.date() + dt.timedelta(days=n) for n in range((end.date() - start.date()).days + 1)]
    results = [_interval(day, sends.get(day, [])) for day in days if dt.datetime.combine(day, dt.time(), dt.UTC) < end]
    return Reply(200, {"total": len(results), "results": results})


def _interval(day: dt.date, sends: list[EmailSend]) -> dict[str, Any]:
    total = EmailSend(
        sum(s.sent for s in sends),
        sum(s.delivered for s in sends),
        sum(s.bounced for s in sends),
        sum(s.opens for s in sends),
        sum(s.clicks for s in sends),
        sum(s.unsubscribed for s in sends),
    )
    following = day + dt.timedelta(days=1)
    return {
        "interval": {"start": f"{day.isoformat()}T00:00:00Z", "end": f"{following.isoformat()}T00:00:00Z"},
        "aggregations": statistics(total if sends else None),
    }


def _portal_emails(call: Call) -> list[SeededEmail]:
    today = dt.datetime.fromtimestamp(call.now, dt.UTC).date()
    emails = [e for item in call.data.lists for e in seeded_emails(item.list_id, today)]
    return sorted(emails, key=lambda e: e.email_id)


def _timestamp(call: Call, name: str) -> dt.datetime:
    raw = call.request.query.get(name)
    try:
        value = dt.datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError:
        raise invalid_field(name, f"{name} is required, an ISO-8601 timestamp") from None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
