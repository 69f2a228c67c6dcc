"""Exact read-back of HubSpot: a behavior's list members, or the contacts whose property holds its part.

List mode (``HubSpotListReadBack``): ``GET /crm/lists/<version>/{listId}/memberships`` page by page (250 a page),
each page's record ids mapped to e-mails by a batch read of 100 contacts (``POST .../contacts/batch/read``
by id, property ``email``). A member without an e-mail (or a contact gone since) is counted as
unaddressable: we add contacts by e-mail only, so it is never ours.

Property mode (``HubSpotPropertyReadBack``): a contact holds the behavior's part when adding the behavior
would change nothing on it (``hubspot_properties.changes``: the same rules the loader writes by, so a
single-select held by a higher-priority behavior counts as held). The committed e-mails are read back in
batches of 100; contacts holding the part that are not committed are found with the contacts search
(``CONTAINS_TOKEN`` / ``EQ`` on the property; HubSpot pages at most 10,000 results, noted when reached).
A lifecycle stage is never taken back, so nothing is unexpected there and no search is made.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from functools import partial
from typing import Any

from hubspot.crm.contacts.models import (
    BatchReadInputSimplePublicObjectId,
    Filter,
    FilterGroup,
    PublicObjectSearchRequest,
    SimplePublicObjectId,
)

from behavior_sync.destinations.hubspot_batch import chunks
from behavior_sync.destinations.hubspot_client import HubSpotClient
from behavior_sync.destinations.hubspot_crm import get_property
from behavior_sync.destinations.hubspot_properties import PropertySpec, changes, managed_priorities
from behavior_sync.destinations.readback import HeldValues, values_table

PAGE_SIZE = 250  # list memberships per page (HubSpot's maximum)
SEARCH_PAGE = 200  # contacts per search page (HubSpot's maximum)
SEARCH_CAP = 10_000  # results HubSpot's search lets a client page through


def list_member_ids(client: HubSpotClient, list_id: str) -> Iterator[list[str]]:
    """The list's record ids, one page at a time (ascending ids)."""
    api = client.sdk.crm.lists.memberships_api
    after: str | None = None
    while True:
        cursor = {"after": after} if after else {}
        request = partial(client.sdk_call, api.get_page_with_http_info, list_id, limit=PAGE_SIZE, **cursor)
        page = client.call("reading list members", request)
        yield [str(r.record_id) for r in page.results or ()]
        following = page.paging.next if page.paging is not None else None
        after = str(following.after) if following is not None and following.after else None
        if after is None:
            return


def emails_of(client: HubSpotClient, record_ids: Sequence[str]) -> dict[str, str]:
    """E-mail (lower case) by record id of the contacts among ``record_ids`` that HubSpot knows and that have one."""
    api = client.sdk.crm.contacts.batch_api
    found: dict[str, str] = {}
    for part in chunks(list(record_ids)):
        inputs = [SimplePublicObjectId(id=i) for i in part]
        request = BatchReadInputSimplePublicObjectId(inputs=inputs, properties=["email"])
        read = partial(client.sdk_call, api.read_with_http_info, request)
        answer = client.call(f"reading {len(part)} contacts", read)
        for contact in answer.results or ():
            email = str((contact.properties or {}).get("email") or "").lower()
            if email:
                found[str(contact.id)] = email
    return found


class HubSpotListReadBack:
    """The e-mails of a list's members (implements ``ExactReadBack``)."""

    key_type = "email"

    def __init__(self, client: HubSpotClient, list_id: str) -> None:
        self._client, self._list_id = client, list_id

    def held(self, committed: Callable[[], Sequence[str]]) -> HeldValues:
        """Every member's e-mail; members without one are counted as unaddressable. Raises ``HubSpotError``."""
        emails: list[str] = []
        members = 0
        for page in list_member_ids(self._client, self._list_id):
            members += len(page)
            emails += emails_of(self._client, page).values()
        return HeldValues(values_table(emails), members - len(emails), {"list_members": members})


def _search_filter(spec: PropertySpec) -> Filter | None:
    """The search filter finding contacts that may hold the behavior's part (None: nothing can be ours)."""
    if spec.kind == "lifecycle_stage":
        return None
    if spec.kind in ("multi_checkbox", "score"):
        name = spec.companion if spec.kind == "score" else spec.name
        return Filter(property_name=name, operator="CONTAINS_TOKEN", value=spec.option)
    return Filter(property_name=spec.name, operator="EQ", value=spec.target)


class HubSpotPropertyReadBack:
    """The e-mails of the contacts holding a behavior's part of a contact property (implements ``ExactReadBack``)."""

    key_type = "email"

    def __init__(self, client: HubSpotClient, spec: PropertySpec) -> None:
        self._client, self._spec = client, spec

    def held(self, committed: Callable[[], Sequence[str]]) -> HeldValues:
        """Committed e-mails whose contact holds the part, and other contacts holding it. Raises ``HubSpotError``."""
        found = get_property(self._client, self._spec.name)
        if found is None:  # no contact holds a part of a property that does not exist
            return HeldValues(values_table([]), 0, {"property_missing": True})
        priorities = managed_priorities(self._spec, found)
        read = self._client.read_contacts(committed(), self._spec.reads)
        held = [e for e, current in read.items() if not changes(self._spec, "add", current, priorities)]
        others, capped = self._holders(priorities)
        return HeldValues(values_table(sorted(set(held) | others)), 0, {"search_capped": capped})

    def _holders(self, priorities: dict[str, int]) -> tuple[set[str], bool]:
        """E-mails of the contacts the search finds holding the part; whether HubSpot's paging cap was reached."""
        condition = _search_filter(self._spec)
        if condition is None:
            return set(), False
        api = self._client.sdk.crm.contacts.search_api
        holders: set[str] = set()
        after = 0
        while after < SEARCH_CAP:
            request = PublicObjectSearchRequest(
                filter_groups=[FilterGroup(filters=[condition])],
                properties=["email", *self._spec.reads],
                limit=SEARCH_PAGE,
                after=str(after),
            )
            search = partial(self._client.sdk_call, api.do_search_with_http_info, request)
            page = self._client.call("searching contacts by property", search)
            found = _contacts(page, self._spec)
            holders |= {email for email, current in found if changes(self._spec, "remove", current, priorities)}
            if page.paging is None or page.paging.next is None:
                return holders, False
            after = int(page.paging.next.after)
        return holders, True


def _contacts(page: Any, spec: PropertySpec) -> Iterator[tuple[str, dict[str, str]]]:
    """(e-mail, the spec's properties) of each contact of a search page that has an e-mail."""
    for contact in page.results or ():
        values = contact.properties or {}
        email = str(values.get("email") or "").lower()
        if email:
            yield email, {p: str(values.get(p) or "") for p in spec.reads}
