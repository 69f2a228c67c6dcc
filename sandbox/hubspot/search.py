"""POST /crm/v3/objects/contacts/search: filters, a text query, one sort, offset paging.

HubSpot's limits: ``limit`` <= 200, at most 5 filter groups of at most 6 filters (18 in all), and
at most 10,000 results reachable by paging; the per-token rate (4/s) is enforced by the limiter.
Groups are OR-ed, filters in a group AND-ed. Multi-checkbox values match token by token.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from typing import Any

from sandbox.hubspot.calls import Call, Reply, json_object, optional_int, string_list
from sandbox.hubspot.contacts import DEFAULT_READ_PROPERTIES, Contact
from sandbox.hubspot.errors import invalid_field
from sandbox.hubspot.properties import PropertyCatalog

MAX_LIMIT = 200
MAX_GROUPS = 5
MAX_FILTERS_PER_GROUP = 6
MAX_FILTERS = 18
MAX_RESULTS = 10_000
QUERY_PROPERTIES = ("email", "firstname", "lastname", "phone", "company")
FILTER_FIELDS = ("propertyName", "operator", "value", "values", "highValue")
Predicate = Callable[[list[str], dict[str, Any]], bool]


def _as_number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _compare(tokens: list[str], target: Any, test: Callable[[int], bool]) -> bool:
    """True when a token compares to ``target`` as ``test(sign)`` wants; numbers numerically."""
    for token in tokens:
        left, right = _as_number(token), _as_number(str(target))
        if left is not None and right is not None:
            sign = (left > right) - (left < right)
        else:
            a, b = token.casefold(), str(target).casefold()
            sign = (a > b) - (a < b)
        if test(sign):
            return True
    return False


def _in(tokens: list[str], values: Any) -> bool:
    wanted = {str(v).casefold() for v in values or []}
    return any(token.casefold() in wanted for token in tokens)


def _contains(tokens: list[str], value: Any) -> bool:
    pattern = str(value).casefold()
    words = [word for token in tokens for word in [token.casefold(), *token.casefold().split()]]
    return any(fnmatch.fnmatchcase(word, pattern) for word in words)


OPERATORS: dict[str, Predicate] = {
    "EQ": lambda t, f: _compare(t, f.get("value"), lambda s: s == 0),
    "NEQ": lambda t, f: not _compare(t, f.get("value"), lambda s: s == 0),
    "LT": lambda t, f: _compare(t, f.get("value"), lambda s: s < 0),
    "LTE": lambda t, f: _compare(t, f.get("value"), lambda s: s <= 0),
    "GT": lambda t, f: _compare(t, f.get("value"), lambda s: s > 0),
    "GTE": lambda t, f: _compare(t, f.get("value"), lambda s: s >= 0),
    "BETWEEN": lambda t, f: (
        _compare(t, f.get("value"), lambda s: s >= 0) and _compare(t, f.get("highValue"), lambda s: s <= 0)
    ),
    "IN": lambda t, f: _in(t, f.get("values")),
    "NOT_IN": lambda t, f: not _in(t, f.get("values")),
    "HAS_PROPERTY": lambda t, f: bool(t),
    "NOT_HAS_PROPERTY": lambda t, f: not t,
    "CONTAINS_TOKEN": lambda t, f: _contains(t, f.get("value")),
    "NOT_CONTAINS_TOKEN": lambda t, f: not _contains(t, f.get("value")),
}


def search_contacts(call: Call) -> Reply:
    """Answer a contacts search: ``{"total", "results", "paging"?}``; 400 on malformed requests."""
    fields = ("query", "limit", "after", "sorts", "properties", "filterGroups")
    body = json_object(call.body(), fields)
    limit = optional_int(body, "limit", 10)
    after = str(body.get("after") or "0")
    if not 1 <= limit <= MAX_LIMIT:
        raise invalid_field("limit", f"limit must be between 1 and {MAX_LIMIT}")
    if not after.isdigit() or int(after) + limit > MAX_RESULTS:
        raise invalid_field("after", f"after must be a paging offset; at most {MAX_RESULTS} results can be paged")
    groups = _groups(body.get("filterGroups", []), call.data.catalog)
    query = str(body.get("query") or "").casefold()
    matches = [c for c in call.data.contacts if _matches(c, groups) and _has_text(c, query)]
    matches = _sorted(matches, body.get("sorts") or [])
    names = string_list(body.get("properties") or list(DEFAULT_READ_PROPERTIES), "properties")
    names = [name for name in names if call.data.catalog.get(name) is not None]
    start = int(after)
    page = matches[start : start + limit]
    answer: dict[str, Any] = {"total": len(matches), "results": [c.to_api(names) for c in page]}
    if start + limit < len(matches):
        answer["paging"] = {"next": {"after": str(start + limit)}}
    return Reply(200, answer)


def _groups(raw: Any, catalog: PropertyCatalog) -> list[list[dict[str, Any]]]:
    if not isinstance(raw, list) or len(raw) > MAX_GROUPS:
        raise invalid_field("filterGroups", f"filterGroups must be an array of at most {MAX_GROUPS} groups")
    groups = []
    for index, group in enumerate(raw):
        filters = json_object(group, ("filters",), ("filters",), f"filterGroups[{index}]")["filters"]
        if not isinstance(filters, list) or len(filters) > MAX_FILTERS_PER_GROUP:
            raise invalid_field(f"filterGroups[{index}].filters", f"at most {MAX_FILTERS_PER_GROUP} filters per group")
        where = f"filterGroups[{index}].filters"
        groups.append([_filter(item, f"{where}[{i}]", catalog) for i, item in enumerate(filters)])
    if sum(len(group) for group in groups) > MAX_FILTERS:
        raise invalid_field("filterGroups", f"at most {MAX_FILTERS} filters in all")
    return groups


def _filter(raw: Any, where: str, catalog: PropertyCatalog) -> dict[str, Any]:
    item = json_object(raw, FILTER_FIELDS, ("propertyName", "operator"), where)
    if item["operator"] not in OPERATORS:
        raise invalid_field(f"{where}.operator", f"operator must be one of {', '.join(sorted(OPERATORS))}")
    if catalog.get(str(item["propertyName"])) is None:
        raise invalid_field(f"{where}.propertyName", f'Property "{str(item["propertyName"])[:100]}" does not exist')
    return item


def _tokens(contact: Contact, name: str) -> list[str]:
    value = contact.values().get(name)
    return [] if value is None else [token for token in value.split(";") if token] or [value]


def _matches(contact: Contact, groups: list[list[dict[str, Any]]]) -> bool:
    if not groups:
        return True
    return any(all(OPERATORS[f["operator"]](_tokens(contact, f["propertyName"]), f) for f in group) for group in groups)


def _has_text(contact: Contact, query: str) -> bool:
    values = contact.values()
    return not query or any(query in values.get(name, "").casefold() for name in QUERY_PROPERTIES)


def _sorted(contacts: list[Contact], sorts: Any) -> list[Contact]:
    """Sort by the first of ``sorts``: ``"prop"``/``"-prop"`` or ``{"propertyName", "direction"}``."""
    if not isinstance(sorts, list) or not sorts:
        return contacts
    first = sorts[0]
    if isinstance(first, dict):
        name, descending = str(first.get("propertyName", "")), first.get("direction") == "DESCENDING"
    else:
        name, descending = str(first).lstrip("-"), str(first).startswith("-")

    def key(contact: Contact) -> tuple[int, float, str]:
        value = contact.values().get(name, "")
        number = _as_number(value)
        return (0, number, "") if number is not None else (1, 0.0, value.casefold())

    return sorted(contacts, key=key, reverse=descending)
