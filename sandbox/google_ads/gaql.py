"""A small Google Ads Query Language (GAQL) matcher for the queries a Customer Match destination sends.

Supported: ``SELECT <resource>.<field>[.<sub>...], ... FROM user_list|offline_user_data_job
[WHERE <field> = <value> [AND <field> IN (<value>, ...)] ...] [LIMIT n]``; values are quoted strings
(``'...'`` or ``"..."``), integers or enum names. Fields are checked against the resource's proto;
anything else is a ``QueryError`` (``BAD_RESOURCE_TYPE_IN_FROM_CLAUSE``, ``UNRECOGNIZED_FIELD``,
``QUERY_ERROR`` for syntax the sandbox does not parse, e.g. ORDER BY or date ranges).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from sandbox.google_ads.errors import ads_error

_QUERY = re.compile(
    r"\s*SELECT\s+(?P<fields>.+?)\s+FROM\s+(?P<resource>\w+)(?:\s+WHERE\s+(?P<where>.+?))?"
    r"(?:\s+LIMIT\s+(?P<limit>\d+))?\s*",
    re.IGNORECASE | re.DOTALL,
)
_VALUE = r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|-?\d+|[A-Z_][A-Z0-9_]*"
_CONDITION = re.compile(rf"\s*([\w.]+)\s*(?:(=)\s*({_VALUE})|(IN)\s*\(([^)]*)\))\s*(?:AND\b|$)", re.IGNORECASE)


@dataclass(frozen=True)
class Query:
    """A parsed query: resource, selected field paths (without the resource prefix), filters, limit."""

    resource: str
    fields: tuple[str, ...]
    filters: tuple[tuple[str, frozenset[str]], ...]
    limit: int | None


def parse(text: str, descriptors: dict[str, Descriptor]) -> Query:
    """Parse ``text`` against the resources' descriptors; raises ``AdsError`` with a QueryError."""
    match = _QUERY.fullmatch(text)
    if match is None:
        raise _query_error("QUERY_ERROR", "the sandbox parses SELECT ... FROM ... [WHERE ...] [LIMIT n] only")
    resource = match["resource"].lower()
    if resource not in descriptors:
        raise _query_error("BAD_RESOURCE_TYPE_IN_FROM_CLAUSE", f"the sandbox serves {sorted(descriptors)} only")
    fields = tuple(_field(name.strip(), resource, descriptors[resource]) for name in match["fields"].split(","))
    filters = _filters(match["where"] or "", resource, descriptors[resource])
    return Query(resource, fields, filters, int(match["limit"]) if match["limit"] else None)


def matches(message: Message, query: Query) -> bool:
    """Whether ``message`` (a raw protobuf resource) passes every filter of ``query``."""
    return all(_value_at(message, path) in values for path, values in query.filters)


def _filters(where: str, resource: str, descriptor: Descriptor) -> tuple[tuple[str, frozenset[str]], ...]:
    filters: list[tuple[str, frozenset[str]]] = []
    position = 0
    while position < len(where):
        condition = _CONDITION.match(where, position)
        if condition is None or condition.end() == position:
            raise _query_error("QUERY_ERROR", "the sandbox understands '<field> = <value>' and '<field> IN (...)'")
        path = _field(condition[1], resource, descriptor)
        raw = [condition[3]] if condition[2] else re.findall(_VALUE, condition[5])
        filters.append((path, frozenset(_literal(value) for value in raw)))
        position = condition.end()
    return tuple(filters)


def _field(name: str, resource: str, descriptor: Descriptor) -> str:
    prefix, _, path = name.partition(".")
    if prefix.lower() != resource or not path:
        raise _query_error("UNRECOGNIZED_FIELD", f"{name!r} is not a field of {resource}")
    current: Descriptor | None = descriptor
    for part in path.split("."):
        field = current.fields_by_name.get(part) if current is not None else None
        if field is None:
            raise _query_error("UNRECOGNIZED_FIELD", f"{name!r} is not a field of {resource}")
        current = field.message_type
    return path


def _value_at(message: Message, path: str) -> str:
    value: object = message
    field: FieldDescriptor | None = None
    for part in path.split("."):
        assert isinstance(value, Message)
        field = value.DESCRIPTOR.fields_by_name[part]
        value = getattr(value, part)
    if field is not None and field.enum_type is not None and isinstance(value, int):
        return str(field.enum_type.values_by_number[value].name)
    return str(value)


def _literal(raw: str) -> str:
    if raw[:1] in {"'", '"'}:
        return re.sub(r"\\(.)", r"\1", raw[1:-1])
    return raw


def _query_error(code: str, message: str) -> Exception:
    return ads_error("query_error", code, message)
