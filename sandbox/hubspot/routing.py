"""The HubSpot paths the sandbox serves, the scopes each needs, and the endpoint answering it.

Routes are written in the legacy ``v3`` form; a date-versioned path names the same endpoint with the
version after the API's name (HubSpot's 2026-03 reference: ``/crm/lists/2026-03/{listId}`` is
``/crm/v3/lists/{listId}``, ``/crm/objects/2026-03/contacts`` is ``/crm/v3/objects/contacts``,
``/account-info/2026-03/details``, ``/marketing/emails/2026-03/...``): ``api_version`` maps one to the
other and says which version a path names. Paths match without a trailing slash (``/crm/v3/lists/`` is
``/crm/v3/lists``); path parameters are percent-decoded after matching (a list name may contain ``/`` as
``%2F``). A route's ``scopes`` are alternatives: holding any one of them is enough (HubSpot: "requires
one of").
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import unquote

from sandbox.hubspot import api_account, api_contacts, api_lists, api_marketing_emails, api_properties, search
from sandbox.hubspot.calls import Call, Reply

Handler = Callable[[Call], Reply]
LISTS_READ = frozenset({"crm.lists.read", "crm.lists.write"})
LISTS_WRITE = frozenset({"crm.lists.write"})
CONTACTS_READ = frozenset({"crm.objects.contacts.read", "crm.objects.contacts.write"})
CONTACTS_WRITE = frozenset({"crm.objects.contacts.write"})
SCHEMAS_READ = frozenset({"crm.schemas.contacts.read", "crm.schemas.contacts.write"})
SCHEMAS_WRITE = frozenset({"crm.schemas.contacts.write"})
EMAILS_READ = frozenset({"content", "marketing-email"})
ANY_TOKEN: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Route:
    """One endpoint: method, path pattern, name (for stats and logs), scopes, handler."""

    method: str
    pattern: re.Pattern[str]
    name: str
    scopes: frozenset[str]
    handler: Handler
    is_search: bool = False


def _route(method: str, path: str, name: str, scopes: frozenset[str], handler: Handler, search: bool = False) -> Route:
    regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", path)
    return Route(method, re.compile(regex), name, scopes, handler, search)


_LIST = "/crm/v3/lists/{list_id}"
_MEMBERS = _LIST + "/memberships"
_CONTACTS = "/crm/v3/objects/contacts"
_PROPS = "/crm/v3/properties/{object_type}"
ROUTES: tuple[Route, ...] = (
    _route("GET", "/account-info/v3/details", "account.details", ANY_TOKEN, api_account.account_details),
    _route("GET", "/account-info/v3/api-usage/daily/private-apps", "account.usage", ANY_TOKEN, api_account.daily_usage),
    _route(
        "POST", "/oauth/v2/private-apps/get/access-token-info", "account.token_info", ANY_TOKEN, api_account.token_info
    ),
    _route("POST", "/crm/v3/lists", "lists.create", LISTS_WRITE, api_lists.create_list),
    _route("GET", "/crm/v3/lists", "lists.get_all", LISTS_READ, api_lists.get_lists),
    _route("POST", "/crm/v3/lists/search", "lists.search", LISTS_READ, api_lists.search_lists),
    _route(
        "GET",
        "/crm/v3/lists/object-type-id/{object_type_id}/name/{list_name}",
        "lists.get_by_name",
        LISTS_READ,
        api_lists.get_list_by_name,
    ),
    _route("GET", _LIST, "lists.get", LISTS_READ, api_lists.get_list),
    _route("DELETE", _LIST, "lists.delete", LISTS_WRITE, api_lists.delete_list),
    _route("GET", _MEMBERS, "memberships.page", LISTS_READ, api_lists.member_page),
    _route("DELETE", _MEMBERS, "memberships.remove_all", LISTS_WRITE, api_lists.remove_all_members),
    _route("PUT", _MEMBERS + "/add", "memberships.add", LISTS_WRITE, api_lists.add_members),
    _route("PUT", _MEMBERS + "/remove", "memberships.remove", LISTS_WRITE, api_lists.remove_members),
    _route(
        "PUT", _MEMBERS + "/add-and-remove", "memberships.add_and_remove", LISTS_WRITE, api_lists.add_and_remove_members
    ),
    _route("POST", _CONTACTS + "/batch/read", "contacts.batch_read", CONTACTS_READ, api_contacts.batch_read),
    _route("POST", _CONTACTS + "/batch/create", "contacts.batch_create", CONTACTS_WRITE, api_contacts.batch_create),
    _route("POST", _CONTACTS + "/batch/update", "contacts.batch_update", CONTACTS_WRITE, api_contacts.batch_update),
    _route("POST", _CONTACTS + "/batch/upsert", "contacts.batch_upsert", CONTACTS_WRITE, api_contacts.batch_upsert),
    _route("POST", _CONTACTS + "/search", "contacts.search", CONTACTS_READ, search.search_contacts, search=True),
    _route("GET", _CONTACTS + "/{contact_id}", "contacts.get", CONTACTS_READ, api_contacts.get_contact),
    _route("GET", _PROPS + "/groups", "groups.get_all", SCHEMAS_READ, api_properties.get_groups),
    _route("POST", _PROPS + "/groups", "groups.create", SCHEMAS_WRITE, api_properties.create_group),
    _route("GET", _PROPS + "/groups/{group_name}", "groups.get", SCHEMAS_READ, api_properties.get_group),
    _route("GET", _PROPS, "properties.get_all", SCHEMAS_READ, api_properties.get_properties),
    _route("POST", _PROPS, "properties.create", SCHEMAS_WRITE, api_properties.create_property),
    _route("GET", _PROPS + "/{property_name}", "properties.get", SCHEMAS_READ, api_properties.get_property),
    _route("PATCH", _PROPS + "/{property_name}", "properties.update", SCHEMAS_WRITE, api_properties.update_property),
    _route("GET", "/marketing/v3/emails", "emails.get_page", EMAILS_READ, api_marketing_emails.list_emails),
    _route(
        "GET",
        "/marketing/v3/emails/statistics/histogram",
        "emails.histogram",
        EMAILS_READ,
        api_marketing_emails.histogram,
    ),
)


_DATED = re.compile(r"/(crm/objects|crm/lists|crm/properties|account-info|marketing/emails)/(\d{4}-\d{2})(?=/|$)")
_LEGACY = re.compile(r"/(crm|account-info|marketing)/v3(?=/|$)")


def api_version(path: str) -> tuple[str, str | None]:
    """(``path`` in the routes' legacy form, the API version it names: ``v3``, ``YYYY-MM``, or None for
    unversioned paths such as ``/oauth/v2/...``)."""
    dated = _DATED.match(path)
    if dated is None:
        return path, "v3" if _LEGACY.match(path) else None
    head, _, tail = dated[1].partition("/")
    return f"/{head}/v3{'/' + tail if tail else ''}{path[dated.end() :]}", dated[2]


def normalize(path: str) -> str:
    """The path without its trailing slash (the root stays ``/``)."""
    return path.rstrip("/") or "/"


def match(method: str, path: str) -> tuple[Route | None, dict[str, str], bool]:
    """(route, decoded path parameters, whether any route has this path) for a request."""
    path = normalize(path)
    path_exists = False
    for route in ROUTES:
        found = route.pattern.fullmatch(path)
        if found is None:
            continue
        if route.method == method:
            return route, {key: unquote(value) for key, value in found.groupdict().items()}, True
        path_exists = True
    return None, {}, path_exists
