"""Reads a HubSpot list's membership as an Arrow table (email, contact_id, joined_at), for the import DAG.

Membership pages of 250 (``GET /crm/lists/<version>/{id}/memberships``), then the members' e-mails by batch
reads of 100 contact ids. Members without an e-mail keep an empty ``email`` (the contact id is kept).
E-mails go only into the returned table (the warehouse), never into logs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from functools import partial

import pyarrow as pa
from hubspot.crm.contacts.models import BatchReadInputSimplePublicObjectId, SimplePublicObjectId

from behavior_sync.destinations.hubspot_batch import chunks
from behavior_sync.destinations.hubspot_client import HubSpotClient
from behavior_sync.destinations.hubspot_errors import HubSpotError

PAGE_SIZE = 250  # the memberships page maximum
MEMBERSHIP_SCHEMA = pa.schema(
    [("email", pa.string()), ("contact_id", pa.string()), ("joined_at", pa.timestamp("ms", tz="UTC"))]
)


def read_membership(client: HubSpotClient, list_name: str) -> pa.Table:
    """Members of the portal's list named ``list_name``; raises ``HubSpotError`` when there is none."""
    found = client.find_list(list_name)
    if found is None:
        raise HubSpotError(f"{client.label}: portal {client.portal_id} has no contact list named {list_name!r}")
    joined = dict(_pages(client, found.list_id))
    emails = _emails(client, sorted(joined))
    ids = sorted(joined)
    return pa.table(
        {"email": [emails.get(i, "") for i in ids], "contact_id": ids, "joined_at": [joined[i] for i in ids]},
        schema=MEMBERSHIP_SCHEMA,
    )


def _pages(client: HubSpotClient, list_id: str) -> Iterator[tuple[str, dt.datetime | None]]:
    """(record id, membership time) of every member, page by page."""
    api = client.sdk.crm.lists.memberships_api
    after: str | None = None
    while True:
        kwargs = {"limit": PAGE_SIZE} | ({"after": after} if after else {})
        page = client.call("reading list members", partial(client.sdk_call, api.get_page_with_http_info, list_id,
                                                           **kwargs))  # fmt: skip
        for item in page.results or ():
            yield str(item.record_id), _timestamp(item.membership_timestamp)
        after = page.paging.next.after if page.paging and page.paging.next else None
        if not after:
            return


def _timestamp(value: object) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00")) if value else None


def _emails(client: HubSpotClient, ids: list[str]) -> dict[str, str]:
    """Contact id -> e-mail, by batch reads of 100 ids."""
    api = client.sdk.crm.contacts.batch_api
    emails: dict[str, str] = {}
    for part in chunks(ids):
        request = BatchReadInputSimplePublicObjectId(inputs=[SimplePublicObjectId(id=i) for i in part],
                                                     properties=["email"])  # fmt: skip
        answer = client.call(f"reading {len(part)} contacts", partial(client.sdk_call, api.read_with_http_info,
                                                                      request))  # fmt: skip
        emails |= {str(c.id): str((c.properties or {}).get("email") or "") for c in answer.results or ()}
    return emails
